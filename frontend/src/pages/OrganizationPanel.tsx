import Button from '@atlaskit/button/new';
import Heading from '@atlaskit/heading';
import Lozenge from '@atlaskit/lozenge';
import Textfield from '@atlaskit/textfield';
import { useState } from 'react';
import type { Api, MembershipResult, RecordView } from '../api';
import { ErrorMessage, Empty, Loading, Unlicensed, subtle, useLoad } from '../components/common';
import type { PageContext } from '../shell';
import { RecordSection } from './IssueView';

/** The agent's JSM organization panel: that organization's fields, editable, and its members. */
export function OrganizationPanel({ api, params, licensed }: PageContext) {
  const jsmId = params.get('organizationId') ?? '';
  const data = useLoad(async () => {
    // No lookup by JSM id yet: the list's q= matches external ids by substring, so pick the exact one.
    const [page, fields] = await Promise.all([api.list('organization', jsmId), api.fields('organization')]);
    return { record: page.values.find((r) => r.externalId === jsmId) ?? null, fields };
  }, [jsmId]);
  if (data.loading) return <Loading label="Loading organization fields" />;
  if (data.error || !data.data) return <ErrorMessage error={data.error} onReload={data.reload} />;
  const { record, fields } = data.data;
  if (!record) return <Empty>This organization has no fields yet (JSM id {jsmId}).</Empty>;
  return (
    <>
      <Unlicensed licensed={licensed} />
      <RecordSection title={record.name} subtitle={`JSM organization ${record.externalId}`} record={record} fields={fields} api={api} onSaved={(r) => data.setData({ record: r, fields })} onReload={data.reload} />
      <Members api={api} organization={record} />
    </>
  );
}

/** What a membership change means for JSM, in words. */
export function writeBackText(result: MembershipResult, customer: string, organization: string): string {
  const verb = result.operation === 'add' ? `Added ${customer} to ${organization}` : `Removed ${customer} from ${organization}`;
  if (!result.changed) return result.operation === 'add' ? `${customer} already belongs to ${organization}.` : `${customer} was not a member of ${organization}.`;
  if (result.writeBack?.state === 'not-in-jsm') return `${verb} in the app only: ${result.writeBack.reason ?? 'it is not in JSM'}.`;
  return `${verb}. JSM is updated in the background; an admin sees any failure under Configuration → Email rules & write-back.`;
}

function Members({ api, organization }: { api: Api; organization: RecordView }) {
  const members = useLoad(() => api.members(organization.id), [organization.id]);
  const [query, setQuery] = useState('');
  const [matches, setMatches] = useState<RecordView[] | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const change = async (customer: RecordView, add: boolean) => {
    setError(null);
    try {
      const result = add ? await api.addMember(organization.id, customer.id) : await api.removeMember(organization.id, customer.id);
      setStatus(writeBackText(result, customer.name, organization.name));
      setMatches(null);
      setQuery('');
      // The list comes from the search index, which follows a change a moment later: show the confirmed change now.
      if (result.changed && members.data) {
        const values = add ? [...members.data.values, customer].sort((a, b) => a.name.localeCompare(b.name)) : members.data.values.filter((m) => m.id !== customer.id);
        members.setData({ ...members.data, values, total: members.data.total + (add ? 1 : -1) });
      }
    } catch (e) {
      setError(e);
    }
  };
  const memberIds = new Set((members.data?.values ?? []).map((m) => m.id));
  return (
    <section aria-labelledby="members-heading" style={{ marginTop: 24 }}>
      <Heading size="small" as="h2" id="members-heading">Members{members.data ? ` (${members.data.total})` : ''}</Heading>
      {status && <p role="status" aria-live="polite">{status}</p>}
      {error !== null && <ErrorMessage error={error} />}
      {members.loading && !members.data ? <Loading label="Loading members" minHeight={40} /> : members.error ? <ErrorMessage error={members.error} onReload={members.reload} /> : (
        members.data!.values.length === 0 ? <Empty>No customers belong to this organization yet.</Empty> : (
          <ul aria-label="Members" style={{ listStyle: 'none', padding: 0 }}>
            {members.data!.values.map((m) => (
              <li key={m.id} style={{ display: 'flex', alignItems: 'center', gap: 8, padding: '4px 0' }}>
                <span>{m.name}</span>
                {m.email && <span style={subtle}>{m.email}</span>}
                {m.removedAt && <Lozenge>removed from JSM</Lozenge>}
                <span style={{ marginLeft: 'auto' }}>
                  <Button appearance="subtle" aria-label={`Remove ${m.name} from ${organization.name}`} onClick={() => change(m, false)}>Remove</Button>
                </span>
              </li>
            ))}
          </ul>
        )
      )}
      {members.data && members.data.total > members.data.values.length && <p style={subtle}>Showing the first {members.data.values.length} of {members.data.total}; the directory lists them all.</p>}
      <form
        aria-label="Add a customer"
        style={{ display: 'flex', gap: 8, alignItems: 'flex-end', marginTop: 8 }}
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            setMatches((await api.search('customer', query, [])).values.slice(0, 8));
          } catch (err) {
            setError(err);
          }
        }}
      >
        <label style={{ flex: 1 }}>
          <span style={{ display: 'block', marginBottom: 4 }}>Add a customer</span>
          <Textfield aria-label="Find a customer by name or email" value={query} onChange={(e) => setQuery(e.currentTarget.value)} placeholder="Name or email" />
        </label>
        <Button type="submit" isDisabled={query.trim().length === 0}>Find</Button>
      </form>
      {matches && (matches.length === 0 ? <Empty>No customer matches “{query}”.</Empty> : (
        <ul aria-label="Matching customers" style={{ listStyle: 'none', padding: 0 }}>
          {matches.map((c) => (
            <li key={c.id} style={{ display: 'flex', alignItems: 'center', gap: 8, padding: '4px 0' }}>
              <span>{c.name}</span>
              {c.email && <span style={subtle}>{c.email}</span>}
              <span style={{ marginLeft: 'auto' }}>
                {memberIds.has(c.id) ? <Lozenge appearance="success">member</Lozenge> : <Button aria-label={`Add ${c.name} to ${organization.name}`} onClick={() => change(c, true)}>Add</Button>}
              </span>
            </li>
          ))}
        </ul>
      ))}
    </section>
  );
}
