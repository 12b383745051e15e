import '@atlaskit/css-reset';
import { token } from '@atlaskit/tokens';
import { setGlobalTheme } from '@atlaskit/tokens/set-global-theme';
import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { Api } from './api';
import { autoResize, bridge, type Bridge } from './bridge';

/** What every page gets: the bridge, the API client and the parameters Jira put on the module URL. */
export interface PageContext {
  bridge: Bridge;
  api: Api;
  params: URLSearchParams;
  /** Marketplace licensing: Jira adds lic=active|none to module URLs of a paid app; absent when licensing is off. */
  licensed: boolean;
}

const rootStyle = { padding: token('space.100', '8px'), color: token('color.text', '#172B4D'), fontFamily: 'inherit' };

/** Starts a page: picks the bridge, applies Jira's theme (light or dark), renders, then keeps the iframe sized. */
export async function start(render: (context: PageContext) => ReactNode): Promise<void> {
  const container = document.getElementById('root')!;
  const root = createRoot(container);
  try {
    const b = await bridge();
    await b.applyTheme((colorMode) => setGlobalTheme({ colorMode, light: 'light', dark: 'dark' }));
    document.body.style.background = token('elevation.surface', '#FFFFFF');
    const params = new URLSearchParams(window.location.search);
    const context: PageContext = { bridge: b, api: new Api(b), params, licensed: params.get('lic') !== 'none' };
    root.render(<StrictMode><div style={rootStyle}>{render(context)}</div></StrictMode>);
    autoResize(b, container);
  } catch (e) {
    root.render(<p role="alert" style={rootStyle}>{e instanceof Error ? e.message : String(e)}</p>);
  }
}
