import Button from '@atlaskit/button/new';
import Heading from '@atlaskit/heading';
import { token } from '@atlaskit/tokens';
import { lazy, Suspense, useEffect, useState } from 'react';
import type { FieldView, IssuePanel, RecordView, RequestCounts } from '../api';
import { Empty, ErrorMessage, Loading, subtle, Unlicensed, useLoad } from '../components/common';
import { FieldList } from '../components/FieldList';
import type { PageContext } from '../shell';

// The editor (selects, inputs) loads only when someone edits: the panel's first load stays small.
const RecordForm = lazy(() => import('../components/RecordForm'));

interface JsmRequest { reporter?: { accountId: string; displayName?: string } }
interface Participants { values?: { accountId: string; displayName?: string }[] }

/** The agent's issue view panel: the reporter (or participants), their customer fields, their organizations' fields. */
export function IssueView({ api, bridge, params, licensed }: PageContext) {
  const issueKey = params.get('issueKey') ?? '';
  const [who, setWho] = useState<'reporter' | 'participants'>('reporter');
  const people = useLoad(async () => {
    const request = await bridge.request<JsmRequest>(`/rest/servicedeskapi/request/${encodeURIComponent(issueKey)}`);
    const participants = await bridge.request<Participants>(`/rest/servicedeskapi/request/${encodeURIComponent(issueKey)}/participant`).catch(() => ({ values: [] }));
    return { reporter: request.reporter?.accountId ?? null, participants: (participants.values ?? []).map((p) => p.accountId) };
  }, [issueKey]);
  const accounts = people.data ? (who === 'reporter' ? (people.data.reporter ? [people.data.reporter] : []) : people.data.participants) : [];
  const panel = useLoad<IssuePanel | null>(() => (accounts.length ? api.issuePanel(accounts[0]!, accounts.slice(1)) : Promise.resolve(null)), [accounts.join(',')]);

  if (people.error) return <ErrorMessage error={people.error} onReload={people.reload} />;
  return (
    <div>
      <Unlicensed licensed={licensed} />
      <div role="group" aria-label="Whose fields to show" style={{ display: 'flex', gap: 4, marginBottom: 8 }}>
        <Button isSelected={who === 'reporter'} aria-pressed={who === 'reporter'} onClick={() => setWho('reporter')}>Reporter</Button>
        <Button isSelected={who === 'participants'} aria-pressed={who === 'participants'} onClick={() => setWho('participants')}>
          Participants{people.data ? ` (${people.data.participants.length})` : ''}
        </Button>
      </div>
      {people.loading || panel.loading ? (
        <Loading label="Loading customer fields" />
      ) : panel.error ? (
        <ErrorMessage error={panel.error} onReload={panel.reload} />
      ) : !panel.data ? (
        <Empty>{who === 'reporter' ? 'This request has no reporter.' : 'This request has no participants.'}</Empty>
      ) : (
        <PanelBody panel={panel.data} api={api} reload={panel.reload} setPanel={panel.setData} />
      )}
    </div>
  );
}

function PanelBody({ panel, api, reload, setPanel }: { panel: IssuePanel; api: PageContext['api']; reload: () => void; setPanel: (p: IssuePanel) => void }) {
  // The moment the agent sees the fields (bench/frontend.md reads it).
  useEffect(() => {
    if (performance.getEntriesByName('connectapp:first-render').length === 0) performance.mark('connectapp:first-render');
  }, []);
  const replace = (updated: RecordView) =>
    setPanel({
      ...panel,
      people: panel.people.map((p) => (p.customer?.id === updated.id ? { ...p, customer: updated } : p)),
      organizations: panel.organizations.map((o) => (o.id === updated.id ? updated : o)),
    });
  return (
    <div>
      <Counts counts={panel.requestCounts} />
      {panel.people.map((p) => (
        <section key={p.accountId} aria-label={`Customer ${p.customer?.name ?? p.accountId}`} style={{ marginBottom: 16 }}>
          {p.customer ? (
            <RecordSection title={p.customer.name} subtitle={p.customer.email ?? p.accountId} record={p.customer} fields={panel.customerFields} api={api} onSaved={replace} onReload={reload} />
          ) : (
            <Empty>No customer fields yet for {p.accountId}.</Empty>
          )}
        </section>
      ))}
      <Heading size="xsmall" as="h2">Organizations</Heading>
      {panel.organizations.length === 0 && <Empty>Not in any organization.</Empty>}
      {panel.organizations.map((o) => (
        <section key={o.id} aria-label={`Organization ${o.name}`} style={{ marginTop: 8, paddingTop: 8, borderTop: `1px solid ${token('color.border', '#091E4224')}` }}>
          <RecordSection title={o.name} record={o} fields={panel.organizationFields} api={api} onSaved={replace} onReload={reload} />
        </section>
      ))}
    </div>
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The reporter's and their organizations' open and closed requests; a quiet line when Jira did not answer in time. */
function Counts({ counts }: { counts: RequestCounts | undefined }) {
  if (!counts) return null;
  if (!counts.available) {
    if (counts.reason === 'no-reporter') return null;
    return (
      <p role="status" style={{ ...subtle, marginTop: 0 }}>
        Request counts unavailable: {counts.reason === 'jira-slow' ? 'Jira is slow to answer; they show next time.' : 'Jira did not answer.'}
      </p>
    );
  }
  return (
    <section aria-label="Requests" style={{ marginBottom: 12 }}>
      <Heading size="xxsmall" as="h2">Requests</Heading>
      <ul style={{ margin: '4px 0 0', paddingLeft: 16 }}>
        {counts.reporter && <li>Reporter: {plural(counts.reporter.open, 'open request')}, {counts.reporter.closed} closed</li>}
        {(counts.organizations ?? []).map((o) => (
          <li key={o.organizationId}>{o.name}: {plural(o.open, 'open request')}, {o.closed} closed</li>
        ))}
      </ul>
    </section>
  );
}

export function RecordSection({ title, subtitle, record, fields, api, onSaved, onReload, portal = false, editableFields }: {
  title: string; subtitle?: string; record: RecordView; fields: FieldView[]; api: PageContext['api'];
  onSaved: (r: RecordView) => void; onReload: () => void; portal?: boolean; editableFields?: FieldView[];
}) {
  const [editing, setEditing] = useState(false);
  const editable = editableFields ?? fields;
  return (
    <div>
      <div style={{ display: 'flex', alignItems: 'baseline', justifyContent: 'space-between', gap: 8 }}>
        <div>
          <Heading size="xsmall" as="h3">{title}</Heading>
          {subtitle && <div style={subtle}>{subtitle}</div>}
        </div>
        {!editing && editable.length > 0 && <Button onClick={() => setEditing(true)} aria-label={`Edit ${title}`}>Edit</Button>}
      </div>
      <div style={{ marginTop: 8 }}>
        {editing ? (
          <Suspense fallback={<Loading label="Loading editor" />}>
            <RecordForm
              title={`Edit ${title}`}
              record={record}
              fields={editable}
              save={(r, values) => api.setValues(r, values, portal)}
              onSaved={(r) => {
                setEditing(false);
                onSaved(r);
              }}
              onCancel={() => setEditing(false)}
              onReload={() => {
                setEditing(false);
                onReload();
              }}
            />
          </Suspense>
        ) : (
          <FieldList fields={fields} values={record.values} />
        )}
      </div>
    </div>
  );
}
