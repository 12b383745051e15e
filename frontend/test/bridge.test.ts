import { describe, expect, it, vi } from 'vitest';
import { apBridge, cachedTokens, isAtlassianHost, localBridge, tokenExpiry, type AtlassianAP, type BridgeMessage, type BridgeWindow } from '../src/bridge';

const jwt = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;

/** A parent frame and an iframe window, wired like window.postMessage between two origins. */
function frames(hostOrigin = 'http://127.0.0.1:8090') {
  const listeners: ((e: { data: unknown; origin: string; source: unknown }) => void)[] = [];
  const sent: { message: BridgeMessage; targetOrigin: string }[] = [];
  const parent = { postMessage: (message: BridgeMessage, targetOrigin: string) => sent.push({ message, targetOrigin }) };
  const win: BridgeWindow = { parent, addEventListener: (_t, l) => listeners.push(l) };
  const deliver = (data: unknown, origin = hostOrigin, source: unknown = parent) => listeners.forEach((l) => l({ data, origin, source }));
  return { win, sent, deliver, hostOrigin };
}

describe('tokenExpiry', () => {
  it('reads exp from the payload', () => expect(tokenExpiry(jwt({ exp: 1234 }))).toBe(1234));
  it('is 0 for a malformed token', () => {
    expect(tokenExpiry('nope')).toBe(0);
    expect(tokenExpiry('a.!!!.c')).toBe(0);
  });
});

describe('cachedTokens', () => {
  it('reuses a token until shortly before it expires, then fetches a new one', async () => {
    let now = 1000;
    const fetchToken = vi.fn().mockResolvedValueOnce(jwt({ exp: 1000 + 900 })).mockResolvedValueOnce(jwt({ exp: 2000 + 900 }));
    const get = cachedTokens(fetchToken, () => now, 60);
    const first = await get();
    now = 1000 + 900 - 61; // still more than the margin left
    expect(await get()).toBe(first);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    now = 1000 + 900 - 59; // inside the margin: refresh before expiry
    expect(await get()).not.toBe(first);
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  it('shares one request between concurrent callers and retries after a failure', async () => {
    const fetchToken = vi.fn().mockRejectedValueOnce(new Error('down')).mockResolvedValue(jwt({ exp: 9e9 }));
    const get = cachedTokens(fetchToken, () => 0);
    await expect(Promise.all([get(), get()])).rejects.toThrow('down');
    expect(fetchToken).toHaveBeenCalledTimes(1);
    await expect(get()).resolves.toContain('.');
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });
});

describe('isAtlassianHost', () => {
  it('recognizes Atlassian cloud sites only', () => {
    expect(isAtlassianHost('https://acme.atlassian.net')).toBe(true);
    expect(isAtlassianHost('https://acme.jira.com')).toBe(true);
    expect(isAtlassianHost('http://127.0.0.1:8090')).toBe(false);
    expect(isAtlassianHost('https://atlassian.net.evil.example')).toBe(false);
    expect(isAtlassianHost(null)).toBe(false);
    expect(isAtlassianHost('not a url')).toBe(false);
  });
});

describe('localBridge', () => {
  it('asks the host for a token by postMessage to the host origin only', async () => {
    const f = frames();
    const bridge = localBridge(f.win, f.hostOrigin);
    const token = bridge.getToken();
    expect(f.sent).toHaveLength(1);
    expect(f.sent[0]!.targetOrigin).toBe(f.hostOrigin);
    expect(f.sent[0]!.message).toMatchObject({ connectapp: 1, method: 'getToken' });
    f.deliver({ connectapp: 1, id: f.sent[0]!.message.id, result: jwt({ exp: 9e9 }) });
    await expect(token).resolves.toContain('.');
  });

  it('ignores answers from another origin or another window', async () => {
    const f = frames();
    const bridge = localBridge(f.win, f.hostOrigin, 50);
    const token = bridge.getToken();
    const id = f.sent[0]!.message.id;
    f.deliver({ connectapp: 1, id, result: 'forged' }, 'https://evil.example');
    f.deliver({ connectapp: 1, id, result: 'forged' }, f.hostOrigin, {});
    await expect(token).rejects.toThrow(/did not answer/);
  });

  it('passes host errors on and reports resize heights', async () => {
    const f = frames();
    const bridge = localBridge(f.win, f.hostOrigin);
    const request = bridge.request('/rest/servicedeskapi/request/DEMO-1');
    f.deliver({ connectapp: 1, id: f.sent[0]!.message.id, error: 'not found' });
    await expect(request).rejects.toThrow('not found');
    bridge.resize(120.4);
    expect(f.sent[1]!.message).toEqual({ connectapp: 1, method: 'resize', args: { height: 121 } });
  });

  it('applies the host color mode, light when the host does not say', async () => {
    const f = frames();
    const applied: string[] = [];
    const done = localBridge(f.win, f.hostOrigin).applyTheme(async (m) => applied.push(m));
    f.deliver({ connectapp: 1, id: f.sent[0]!.message.id, result: 'dark' });
    await done;
    const g = frames();
    const second = localBridge(g.win, g.hostOrigin).applyTheme(async (m) => applied.push(m));
    g.deliver({ connectapp: 1, id: g.sent[0]!.message.id, error: 'no theme here' });
    await second;
    expect(applied).toEqual(['dark', 'light']);
  });

  it('reads the color mode from the host', async () => {
    const f = frames();
    const mode = localBridge(f.win, f.hostOrigin).getColorMode();
    f.deliver({ connectapp: 1, id: f.sent[0]!.message.id, result: 'dark' });
    await expect(mode).resolves.toBe('dark');
  });
});

describe('apBridge', () => {
  it('uses AP.context.getToken (callback or promise style) and AP.resize', async () => {
    const resize = vi.fn();
    const ap: AtlassianAP = { context: { getToken: (cb) => cb?.(jwt({ exp: 9e9, sub: 'x' })) }, resize, request: () => undefined };
    const bridge = apBridge(ap);
    await expect(bridge.getToken()).resolves.toContain('.');
    bridge.resize(300);
    expect(resize).toHaveBeenCalledWith('100%', '300px');
    const promiseStyle = apBridge({ context: { getToken: () => Promise.resolve('p.e30.s') }, request: () => undefined });
    await expect(promiseStyle.getToken()).resolves.toBe('p.e30.s');
  });

  it("loads both modes' styles, then lets AP.theming drive data-color-mode", async () => {
    const calls: string[] = [];
    const ap: AtlassianAP = { context: { getToken: () => Promise.resolve('t') }, request: () => undefined, theming: { initializeTheming: () => calls.push('AP.theming') } };
    await apBridge(ap).applyTheme(async (m) => calls.push(`apply ${m}`));
    expect(calls).toEqual(['apply auto', 'AP.theming']);
  });

  it('reads Jira REST through AP.request', async () => {
    const ap: AtlassianAP = {
      context: { getToken: () => Promise.resolve('t') },
      request: (o) => o.success?.(JSON.stringify({ reporter: { accountId: 'a' } })),
    };
    await expect(apBridge(ap).request('/rest/servicedeskapi/request/X-1')).resolves.toEqual({ reporter: { accountId: 'a' } });
  });
});
