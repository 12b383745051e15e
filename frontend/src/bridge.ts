/**
 * The one way a page talks to the Jira page that frames it: context tokens, iframe resize, theme and Jira REST
 * reads. Inside Jira it uses Atlassian's `AP` (all.js, loaded from Atlassian's CDN when the host is an Atlassian
 * site); on the local Jira host (the simulator) it speaks a small postMessage protocol with the framing page.
 * The same bundle does both: the choice is made at run time from the `xdm_e` parameter Jira puts on iframe URLs.
 */

export type ColorMode = 'light' | 'dark';

export interface Bridge {
  /** A context token (qsh = context-qsh) for `Authorization: JWT ...`, refreshed before it expires. */
  getToken(): Promise<string>;
  /** Tells the host how tall the content is. */
  resize(height: number): void;
  /** Light or dark, as the host shows itself. */
  getColorMode(): Promise<ColorMode>;
  /**
   * Applies the host's theme with `apply` (setGlobalTheme). Locally: the host's mode. In Jira: both modes' styles
   * ('auto'), then AP.theming sets (and later updates) data-color-mode on <html> as Jira's theme changes.
   */
  applyTheme(apply: (mode: ColorMode | 'auto') => Promise<unknown>): Promise<void>;
  /** GET on the host product's REST API as the current user (AP.request in Jira). */
  request<T>(url: string): Promise<T>;
  readonly kind: 'ap' | 'local';
}

/** The subset of Atlassian's all.js API this app uses. */
export interface AtlassianAP {
  context: { getToken(callback?: (token: string) => void): Promise<string> | void };
  resize?(width: string, height: string): void;
  sizeToParent?(): void;
  request(options: { url: string; type?: string; success?: (body: string) => void; error?: (xhr: unknown, status: string, err: unknown) => void }): Promise<{ body: string }> | void;
  theming?: { initializeTheming(): void };
}

/** Message envelope of the local host protocol (see src/JiraSimulator/HostPages.cs). */
export interface BridgeMessage {
  connectapp: 1;
  id?: number;
  method?: 'getToken' | 'resize' | 'getColorMode' | 'request';
  args?: unknown;
  result?: unknown;
  error?: string;
}

export const ATLASSIAN_ALL_JS = 'https://connect-cdn.atl-paas.net/all.js';
/** Refresh a token this long before its exp, so a request never leaves with one about to expire. */
export const REFRESH_MARGIN_SECONDS = 60;

/** The seconds-since-epoch expiry of a JWT, or 0 if it cannot be read. */
export function tokenExpiry(token: string): number {
  const part = token.split('.')[1];
  if (!part) return 0;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : 0;
  } catch {
    return 0;
  }
}

/** Wraps a token source with a cache that refreshes `margin` seconds before expiry and shares one request in flight. */
export function cachedTokens(fetchToken: () => Promise<string>, now: () => number = () => Date.now() / 1000, margin = REFRESH_MARGIN_SECONDS): () => Promise<string> {
  let current: { token: string; exp: number } | null = null;
  let inFlight: Promise<string> | null = null;
  return () => {
    if (current && current.exp - margin > now()) return Promise.resolve(current.token);
    inFlight ??= fetchToken().then(
      (token) => {
        current = { token, exp: tokenExpiry(token) };
        inFlight = null;
        return token;
      },
      (e: unknown) => {
        inFlight = null;
        throw e;
      },
    );
    return inFlight;
  };
}

/** Is `hostUrl` (the xdm_e parameter) an Atlassian cloud site, where all.js is the bridge? */
export function isAtlassianHost(hostUrl: string | null): boolean {
  if (!hostUrl) return false;
  try {
    const host = new URL(hostUrl).hostname;
    return ['.atlassian.net', '.jira.com', '.jira-dev.com', '.atlassian.com'].some((s) => host.endsWith(s));
  } catch {
    return false;
  }
}

/** The bridge over Atlassian's AP. */
export function apBridge(ap: AtlassianAP): Bridge {
  const getToken = cachedTokens(() => new Promise<string>((resolve) => {
    const p = ap.context.getToken(resolve);
    if (p && typeof (p as Promise<string>).then === 'function') (p as Promise<string>).then(resolve);
  }));
  return {
    kind: 'ap',
    getToken,
    resize: (height) => ap.resize?.('100%', `${Math.ceil(height)}px`),
    getColorMode: () => Promise.resolve(document.documentElement.getAttribute('data-color-mode') === 'dark' ? 'dark' : 'light'),
    applyTheme: async (apply) => {
      await apply('auto');
      ap.theming?.initializeTheming(); // after ours, so Jira's data-color-mode wins and follows theme changes
    },
    request: <T,>(url: string) => new Promise<T>((resolve, reject) => {
      const p = ap.request({
        url,
        type: 'GET',
        success: (body) => resolve(JSON.parse(body) as T),
        error: (_x, status) => reject(new Error(`Jira answered ${status} for ${url}`)),
      });
      if (p && typeof (p as Promise<{ body: string }>).then === 'function') {
        (p as Promise<{ body: string }>).then((r) => resolve(JSON.parse(r.body) as T), reject);
      }
    }),
  };
}

/** What the local bridge needs from its window; tests pass a fake. */
export interface BridgeWindow {
  parent: { postMessage(message: BridgeMessage, targetOrigin: string): void };
  addEventListener(type: 'message', listener: (e: { data: unknown; origin: string; source: unknown }) => void): void;
}

/** The bridge to the local Jira host: requests by postMessage to the parent, answers only from the parent's origin. */
export function localBridge(win: BridgeWindow, hostOrigin: string, timeoutMs = 10000): Bridge {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  win.addEventListener('message', (e) => {
    if (e.origin !== hostOrigin || e.source !== win.parent) return;
    const data = e.data as BridgeMessage | null;
    if (!data || data.connectapp !== 1 || typeof data.id !== 'number') return;
    const waiter = pending.get(data.id);
    if (!waiter) return;
    pending.delete(data.id);
    if (data.error) waiter.reject(new Error(data.error));
    else waiter.resolve(data.result);
  });
  const call = <T,>(method: BridgeMessage['method'], args?: unknown) => new Promise<T>((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => {
      if (pending.delete(id)) reject(new Error(`The Jira host did not answer ${method}`));
    }, timeoutMs);
    pending.set(id, {
      resolve: (v) => { clearTimeout(timer); resolve(v as T); },
      reject: (e) => { clearTimeout(timer); reject(e); },
    });
    win.parent.postMessage({ connectapp: 1, id, method, args }, hostOrigin);
  });
  return {
    kind: 'local',
    getToken: cachedTokens(() => call<string>('getToken')),
    resize: (height) => win.parent.postMessage({ connectapp: 1, method: 'resize', args: { height: Math.ceil(height) } }, hostOrigin),
    getColorMode: () => call<ColorMode>('getColorMode').then((m) => (m === 'dark' ? 'dark' : 'light')),
    applyTheme: async (apply) => {
      const mode = await call<ColorMode>('getColorMode').then((m) => (m === 'dark' ? 'dark' : 'light')).catch(() => 'light' as const);
      await apply(mode);
    },
    request: <T,>(url: string) => call<T>('request', { url }),
  };
}

function loadAllJs(): Promise<AtlassianAP> {
  const w = window as unknown as { AP?: AtlassianAP };
  if (w.AP) return Promise.resolve(w.AP);
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = ATLASSIAN_ALL_JS;
    script.async = true;
    script.setAttribute('data-options', 'sizeToParent:false;resize:false');
    script.onload = () => (w.AP ? resolve(w.AP) : reject(new Error('all.js loaded without AP')));
    script.onerror = () => reject(new Error('Could not load Atlassian all.js'));
    document.head.appendChild(script);
  });
}

let instance: Promise<Bridge> | null = null;

/** The page's bridge, chosen once from the URL Jira (or the local host) framed it with. */
export function bridge(): Promise<Bridge> {
  instance ??= (() => {
    const params = new URLSearchParams(window.location.search);
    const host = params.get('xdm_e');
    const w = window as unknown as { AP?: AtlassianAP };
    if (w.AP) return Promise.resolve(apBridge(w.AP));
    if (isAtlassianHost(host)) return loadAllJs().then(apBridge);
    if (host && window.parent !== window) return Promise.resolve(localBridge(window as unknown as BridgeWindow, new URL(host).origin));
    return Promise.reject(new Error('This page is shown inside Jira. Open it from Jira (or the local Jira host), not on its own.'));
  })();
  return instance;
}

/** Keeps the host's iframe as tall as the page's content. */
export function autoResize(b: Bridge, element: HTMLElement = document.body): () => void {
  let last = -1;
  const report = () => {
    const height = Math.ceil(element.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      b.resize(height);
    }
  };
  const observer = new ResizeObserver(report);
  observer.observe(element);
  report();
  return () => observer.disconnect();
}
