import SectionMessage from '@atlaskit/section-message';
import Spinner from '@atlaskit/spinner';
import Button from '@atlaskit/button/new';
import { token } from '@atlaskit/tokens';
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError } from '../api';

/** Loading state that keeps its height, so the page does not jump when data arrives. */
export function Loading({ label, minHeight = 120 }: { label: string; minHeight?: number }) {
  return (
    <div style={{ minHeight, display: 'flex', alignItems: 'center', gap: 8 }} aria-busy="true">
      <Spinner size="medium" label={label} />
      <span>{label}</span>
    </div>
  );
}

/** An error in words; a stale write (412) offers a reload. */
export function ErrorMessage({ error, onReload }: { error: unknown; onReload?: () => void }) {
  const stale = error instanceof ApiError && error.isStale;
  const text = error instanceof Error ? error.message : String(error);
  return (
    <div role="alert">
      <SectionMessage appearance={stale ? 'warning' : 'error'} title={stale ? 'Someone changed this since you opened it' : 'Something went wrong'}>
        <p>{stale ? 'Your change was not saved, so nothing was overwritten. Reload to see the current values, then edit again.' : text}</p>
        {onReload && (
          <p>
            <Button onClick={onReload}>{stale ? 'Reload' : 'Try again'}</Button>
          </p>
        )}
      </SectionMessage>
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p style={{ color: token('color.text.subtlest', '#626F86') }}>{children}</p>;
}

/** Loads data once (and again on reload()); errors are kept to be shown, not thrown. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: unknown; loading: boolean; reload: () => void; setData: (d: T) => void } {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const setData = useCallback((data: T) => setState({ data, error: null, loading: false }), []);
  return { ...state, reload, setData };
}

export const subtle = { color: token('color.text.subtle', '#44546F') };

/** Jira said lic=none: the site has no active license for the app. Shown to agents and admins, never on the portal. */
export function Unlicensed({ licensed }: { licensed: boolean }) {
  if (licensed) return null;
  return (
    <div style={{ marginBottom: 8 }}>
      <SectionMessage appearance="warning" title="ConnectApp is not licensed on this site">
        <p>Existing values stay visible. A site admin can start a trial or buy a license in Manage apps.</p>
      </SectionMessage>
    </div>
  );
}
