import Button from '@atlaskit/button/new';
import Heading from '@atlaskit/heading';
import Lozenge from '@atlaskit/lozenge';
import ProgressBar from '@atlaskit/progress-bar';
import Tabs, { Tab, TabList, TabPanel } from '@atlaskit/tabs';
import Textfield from '@atlaskit/textfield';
import { token } from '@atlaskit/tokens';
import { useEffect, useRef, useState } from 'react';
import Select from '@atlaskit/select';
import { ApiError, type Entity, type FieldView, type HistoryEntry, type ImportError, type ImportJob, type Page, type RecordView, type SavedView, type SearchFilter, type SearchPage, type ViewDefinition } from '../api';

/** A page of the plain list, or of a search (which also says its total and the index's freshness). */
type DirectoryPage = Page<RecordView> & Partial<Pick<SearchPage, 'total' | 'totalExact' | 'freshness'>>;
import { FieldInput } from '../components/FieldInput';
import { OrganizationPicker, type OrganizationOption } from '../components/OrganizationPicker';
import { Empty, ErrorMessage, Loading, subtle, Unlicensed, useLoad } from '../components/common';
import { displayValue, fromDraft, toDraft, type Draft } from '../forms';
import type { PageContext } from '../shell';
import { RecordSection } from './IssueView';

const cell = { padding: '4px 8px', borderBottom: `1px solid ${token('color.border', '#091E4224')}`, textAlign: 'left' as const, verticalAlign: 'top' as const };

/** The agents' directory: organizations and customers, search, record details with history and restore, CSV import and export. */
export function Directory({ api, licensed }: PageContext) {
  return (
    <div>
      <Heading size="medium" as="h1">Customer directory</Heading>
      <Unlicensed licensed={licensed} />
      <Tabs id="directory-tabs">
        <TabList>
          <Tab>Organizations</Tab>
          <Tab>Customers</Tab>
        </TabList>
        <TabPanel><EntityDirectory api={api} entity="organization" /></TabPanel>
        <TabPanel><EntityDirectory api={api} entity="customer" /></TabPanel>
      </Tabs>
    </div>
  );
}

function EntityDirectory({ api, entity }: { api: PageContext['api']; entity: Entity }) {
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [more, setMore] = useState<{ values: RecordView[]; nextCursor: string | null } | null>(null);
  const [bulkStatus, setBulkStatus] = useState('');
  const [filterField, setFilterField] = useState('');
  const [filterValue, setFilterValue] = useState('');
  // One filter per field, all of them must hold; applying a field's filter again replaces it.
  const [filters, setFilters] = useState<SearchFilter[]>([]);
  const [showRemoved, setShowRemoved] = useState(false);
  const fields = useLoad(() => api.fields(entity), [entity]);
  // Field filters go to the directory search (the search index, which holds what is in JSM); the plain list answers
  // from PostgreSQL and can also show records the directory sync found gone from JSM.
  const page = useLoad<DirectoryPage>(() => (filters.length > 0 ? api.search(entity, query, filters) : api.list(entity, query, null, showRemoved)), [entity, query, filters, showRemoved]);
  const [columnKeys, setColumnKeys, columnsReady] = useColumns(api, entity, fields.data);
  useEffect(() => {
    setMore(null);
    setChecked(new Set());
  }, [page.data]);
  const columns = (fields.data ?? []).filter((f) => columnKeys.includes(f.key));
  const noun = entity === 'organization' ? 'organizations' : 'customers';
  const rows = page.data ? [...page.data.values, ...(more?.values ?? [])] : [];
  const nextCursor = more ? more.nextCursor : page.data?.nextCursor ?? null;
  const toggle = (id: string, on: boolean) => setChecked((c) => {
    const next = new Set(c);
    if (on) next.add(id);
    else next.delete(id);
    return next;
  });
  const current: ViewDefinition = { q: query || null, filters, showRemoved, columns: columnKeys };
  const applyView = (definition: ViewDefinition) => {
    setQ(definition.q ?? '');
    setQuery(definition.q ?? '');
    setFilters(definition.filters ?? []);
    setShowRemoved(definition.showRemoved ?? false);
    if (definition.columns) setColumnKeys(definition.columns, false);
  };
  return (
    <div style={{ paddingTop: 12, width: '100%' }}>
      <SavedViews api={api} entity={entity} current={current} onApply={applyView} />
      <form role="search" aria-label={`Search ${noun}`} onSubmit={(e) => { e.preventDefault(); setQuery(q.trim()); }} style={{ display: 'flex', gap: 8, alignItems: 'flex-end' }}>
        <div style={{ flex: 1 }}>
          <label htmlFor={`search-${entity}`} style={{ display: 'block', fontWeight: 600, marginBottom: 4 }}>Search {noun} by name or {entity === 'organization' ? 'JSM id' : 'account id'}</label>
          <Textfield id={`search-${entity}`} value={q} onChange={(e) => setQ((e.target as HTMLInputElement).value)} />
        </div>
        <Button type="submit" appearance="primary">Search</Button>
        <ExportButton api={api} entity={entity} />
      </form>
      {fields.data && (
        <form aria-label={`Filter ${noun} by a field`} style={{ display: 'flex', gap: 8, alignItems: 'flex-end', marginTop: 8 }}
          onSubmit={(e) => {
            e.preventDefault();
            const next = toFilter(fields.data ?? [], filterField, filterValue);
            if (next) setFilters((current) => [...current.filter((f) => f.field !== next.field), next]);
          }}>
          <div>
            <label htmlFor={`filter-field-${entity}`} style={{ display: 'block', fontWeight: 600, marginBottom: 4 }}>Filter by field</label>
            <select id={`filter-field-${entity}`} value={filterField} onChange={(e) => setFilterField(e.target.value)} style={{ minHeight: 40 }}>
              <option value="">(no filter)</option>
              {fields.data.map((f) => <option key={f.id} value={f.key}>{f.label}</option>)}
            </select>
          </div>
          <div style={{ flex: 1 }}>
            <label htmlFor={`filter-value-${entity}`} style={{ display: 'block', fontWeight: 600, marginBottom: 4 }}>Filter value</label>
            <Textfield id={`filter-value-${entity}`} value={filterValue} onChange={(e) => setFilterValue((e.target as HTMLInputElement).value)} />
          </div>
          <Button type="submit">Apply filter</Button>
          <Button onClick={() => { setFilterField(''); setFilterValue(''); setFilters([]); }}>Clear filters</Button>
        </form>
      )}
      {filters.length > 0 && fields.data && (
        <ul aria-label="Active filters" style={{ listStyle: 'none', display: 'flex', gap: 8, flexWrap: 'wrap', padding: 0, margin: '8px 0 0' }}>
          {filters.map((f) => {
            const label = `${fields.data?.find((d) => d.key === f.field)?.label ?? f.field} ${f.op === 'contains' ? 'contains' : 'is'} ${String(f.value)}`;
            return (
              <li key={f.field} style={{ display: 'inline-flex', gap: 4, alignItems: 'center', padding: '2px 4px 2px 8px', borderRadius: 3, background: token('color.background.neutral', '#091E420F') }}>
                <span>{label}</span>
                <Button spacing="compact" appearance="subtle" aria-label={`Remove filter ${label}`} onClick={() => setFilters((current) => current.filter((c) => c.field !== f.field))}>×</Button>
              </li>
            );
          })}
        </ul>
      )}
      {filters.length === 0 && (
        <label style={{ display: 'inline-flex', gap: 4, alignItems: 'center', marginTop: 8 }}>
          <input type="checkbox" checked={showRemoved} onChange={(e) => setShowRemoved(e.target.checked)} />
          Show {noun} removed from JSM
        </label>
      )}
      {page.data?.freshness && (
        <p style={subtle} data-testid="search-summary">
          {page.data.total}{page.data.totalExact === false ? '+' : ''} {noun} · {page.data.freshness.pendingChanges === 0 ? 'search index up to date' : `search index ${Math.ceil(page.data.freshness.lagSeconds)} s behind`}
          {page.data.freshness.failedChanges > 0 && ` · ${page.data.freshness.failedChanges} change(s) could not be indexed; a site admin can rebuild the index`}
        </p>
      )}
      <CsvImport api={api} entity={entity} onDone={page.reload} />
      {fields.data && (
        <fieldset style={{ border: 'none', padding: 0, margin: '12px 0 0', display: 'flex', gap: 12, flexWrap: 'wrap' }}>
          <legend style={{ fontWeight: 600, marginBottom: 4 }}>Columns</legend>
          {fields.data.map((f) => (
            <label key={f.id} style={{ display: 'inline-flex', gap: 4, alignItems: 'center' }}>
              <input type="checkbox" checked={columnKeys.includes(f.key)} onChange={(e) => setColumnKeys(e.target.checked ? [...columnKeys, f.key] : columnKeys.filter((k) => k !== f.key))} />
              {f.label}
            </label>
          ))}
        </fieldset>
      )}
      {/* The bulk forms stay in place with nothing selected (disabled), so checking a row never moves the rows. */}
      {fields.data && (
        <BulkEdit api={api} entity={entity} ids={[...checked]} fields={fields.data} onDone={(message) => { setBulkStatus(message); setChecked(new Set()); page.reload(); }} />
      )}
      {fields.data && entity === 'customer' && (
        <BulkMembership api={api} ids={[...checked]} onDone={(message) => { setBulkStatus(message); setChecked(new Set()); page.reload(); }} />
      )}
      <p role="status" style={subtle}>{bulkStatus}</p>
      {page.loading || fields.loading || !columnsReady ? <Loading label={`Loading ${noun}`} /> : page.error || !page.data ? <ErrorMessage error={page.error} onReload={page.reload} /> : rows.length === 0 ? (
        <Empty>No {noun} match.</Empty>
      ) : (
        <>
          <table style={{ width: '100%', borderCollapse: 'collapse', marginTop: 12 }} aria-label={`${noun} found`}>
            <thead>
              <tr>
                <th style={cell} scope="col">
                  <input type="checkbox" aria-label={`Select all ${noun} shown`} checked={rows.length > 0 && rows.every((r) => checked.has(r.id))} onChange={(e) => setChecked(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())} />
                </th>
                <th style={cell} scope="col">Name</th>
                <th style={cell} scope="col">{entity === 'organization' ? 'JSM id' : 'Account id'}</th>
                {columns.map((f) => <th key={f.id} style={cell} scope="col">{f.label}</th>)}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td style={cell}><input type="checkbox" aria-label={`Select ${r.name}`} checked={checked.has(r.id)} onChange={(e) => toggle(r.id, e.target.checked)} /></td>
                  <td style={cell}>
                    <Button appearance="subtle" onClick={() => setSelected(r.id)} aria-label={`Open ${r.name}`}>{r.name}</Button>
                    {r.removedAt && <Lozenge appearance="removed">Removed from JSM</Lozenge>}
                  </td>
                  <td style={cell}>{r.externalId}</td>
                  {columns.map((f) => <td key={f.id} style={cell}>{displayValue(f, r.values[f.key])}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
          {nextCursor && (
            <div style={{ marginTop: 8 }}>
              <Button onClick={async () => {
                const next = filters.length > 0 ? await api.search(entity, query, filters, nextCursor) : await api.list(entity, query, nextCursor, showRemoved);
                setMore({ values: [...(more?.values ?? []), ...next.values], nextCursor: next.nextCursor });
              }}>Load more</Button>
            </div>
          )}
        </>
      )}
      {selected && fields.data && <RecordDetails key={selected} api={api} entity={entity} id={selected} fields={fields.data} onClose={() => setSelected(null)} />}
    </div>
  );
}

/** The filter a field and a typed value make: equals for choices, numbers, dates and checkboxes; contains for text. */
function toFilter(fields: FieldView[], key: string, text: string): SearchFilter | null {
  const field = fields.find((f) => f.key === key);
  if (!field || text.trim() === '') return null;
  const value = text.trim();
  switch (field.type) {
    case 'number':
      return { field: key, op: 'equals', value: Number(value) };
    case 'checkbox':
      return { field: key, op: 'equals', value: value.toLowerCase() === 'true' || value.toLowerCase() === 'yes' };
    case 'select':
    case 'multi-select':
    case 'date':
    case 'user':
      return { field: key, op: 'equals', value };
    default:
      return { field: key, op: 'contains', value };
  }
}

/** Which fields are columns: the first four by default, the choice kept in this browser per entity. */
/**
 * The columns this agent chose for the tab, kept on the server (the app's iframe may not use browser storage): the
 * first four fields until they choose. Setting them saves the choice unless <c>save</c> is false (a view applied).
 */
function useColumns(api: PageContext['api'], entity: Entity, fields: FieldView[] | null): [string[], (keys: string[], save?: boolean) => void, boolean] {
  const saved = useLoad(() => api.columns(), []);
  const [keys, setKeys] = useState<string[] | null>(null);
  const fromServer = saved.data ? saved.data[entity] : null;
  const effective = keys ?? fromServer ?? (fields ?? []).slice(0, 4).map((f) => f.key);
  return [effective, (next, save = true) => {
    setKeys(next);
    if (save) void api.setColumns(entity, next).catch(() => undefined); // not saved: the choice lasts until the page reloads
  }, !saved.loading];
}

/** Picks, saves, updates and deletes the agent's saved views of this tab (their own, and views other agents shared). */
function SavedViews({ api, entity, current, onApply }: { api: PageContext['api']; entity: Entity; current: ViewDefinition; onApply: (definition: ViewDefinition) => void }) {
  const views = useLoad(() => api.views(entity), [entity]);
  const [chosen, setChosen] = useState<string>('');
  const [saving, setSaving] = useState(false);
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>(null);
  const view = views.data?.find((v) => v.id === chosen) ?? null;
  const apiError = error instanceof ApiError ? error : null;
  const run = async (action: () => Promise<string>) => {
    setError(null);
    try {
      setStatus(await action());
    } catch (err) {
      setStatus('');
      setError(err);
    }
  };
  const pick = (id: string) => {
    setChosen(id);
    const next = views.data?.find((v) => v.id === id);
    if (next) {
      onApply(next.definition);
      setStatus(`Showing the view ${next.name}.`);
    }
  };
  const idPrefix = `views-${entity}`;
  return (
    <section aria-label="Saved views" style={{ display: 'flex', gap: 8, alignItems: 'flex-end', flexWrap: 'wrap', marginBottom: 8 }}>
      <div>
        <label htmlFor={`${idPrefix}-pick`} style={{ display: 'block', fontWeight: 600, marginBottom: 4 }}>Saved view</label>
        <select id={`${idPrefix}-pick`} value={chosen} onChange={(e) => pick(e.target.value)} style={{ minHeight: 40, minWidth: 200 }} disabled={!views.data}>
          <option value="">{views.loading ? 'Loading views…' : '(none)'}</option>
          {views.data?.map((v: SavedView) => <option key={v.id} value={v.id}>{v.name}{v.shared ? (v.mine ? ' · shared by you' : ' · shared') : ''}</option>)}
        </select>
      </div>
      {view?.mine && (
        <>
          <Button onClick={() => run(async () => {
            const updated = await api.updateView(view, { name: view.name, shared: view.shared, definition: current });
            views.setData((views.data ?? []).map((v) => (v.id === updated.id ? updated : v)));
            return `Saved the current search and columns to ${updated.name}.`;
          })}>Update view</Button>
          <Button onClick={() => run(async () => {
            await api.deleteView(view);
            views.setData((views.data ?? []).filter((v) => v.id !== view.id));
            setChosen('');
            return `Deleted the view ${view.name}.`;
          })}>Delete view</Button>
        </>
      )}
      {!saving && <Button onClick={() => { setSaving(true); setName(''); setShared(false); setStatus(''); setError(null); }}>Save as a new view</Button>}
      {saving && (
        <form aria-label="Save view" style={{ display: 'flex', gap: 8, alignItems: 'flex-end', flexWrap: 'wrap' }}
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const created = await api.saveView(entity, name, shared, current);
              views.setData([...(views.data ?? []), created].sort((a, b) => a.name.localeCompare(b.name)));
              setChosen(created.id);
              setSaving(false);
              return `Saved the view ${created.name}${created.shared ? ', shared with every agent of the site' : ''}.`;
            });
          }}>
          <div>
            <label htmlFor={`${idPrefix}-name`} style={{ display: 'block', fontWeight: 600, marginBottom: 4 }}>View name</label>
            <Textfield id={`${idPrefix}-name`} value={name} maxLength={100} isInvalid={Boolean(apiError?.errors.name)} onChange={(e) => setName((e.target as HTMLInputElement).value)} />
          </div>
          <label style={{ display: 'inline-flex', gap: 4, alignItems: 'center', minHeight: 40 }}>
            <input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} />
            Share with every agent
          </label>
          <Button type="submit" appearance="primary">Save view</Button>
          <Button onClick={() => setSaving(false)}>Cancel</Button>
        </form>
      )}
      <p role="status" style={{ ...subtle, flexBasis: '100%', margin: 0 }}>{status}</p>
      {error !== null && (
        <div style={{ flexBasis: '100%' }}>
          <ErrorMessage error={error} />
          {apiError && Object.keys(apiError.errors).length > 0 && (
            <ul aria-label="What to fix">{Object.entries(apiError.errors).map(([key, messages]) => <li key={key}>{key === 'name' ? 'View name' : key}: {messages.join('; ')}</li>)}</ul>
          )}
        </div>
      )}
    </section>
  );
}

/** Sets one field on every selected record, all or nothing (POST /api/bulk/values). */
function BulkEdit({ api, entity, ids, fields, onDone }: { api: PageContext['api']; entity: Entity; ids: string[]; fields: FieldView[]; onDone: (message: string) => void }) {
  const [field, setField] = useState<FieldView | null>(null);
  const [draft, setDraft] = useState<Draft>('');
  const [error, setError] = useState<unknown>(null);
  const options = fields.map((f) => ({ label: f.label, value: f.key }));
  const apiError = error instanceof ApiError ? error : null;
  return (
    <form
      aria-label="Bulk edit"
      style={{ marginTop: 12, padding: 12, border: `1px solid ${token('color.border', '#091E4224')}`, borderRadius: 3 }}
      onSubmit={async (e) => {
        e.preventDefault();
        if (!field || ids.length === 0) return;
        setError(null);
        try {
          const result = await api.bulkSetValues(entity, ids, { [field.key]: fromDraft(field, draft) });
          onDone(`${field.label} set on ${result.updated} record(s).`);
        } catch (err) {
          setError(err);
        }
      }}
    >
      <Heading size="xsmall" as="h3">{ids.length === 0 ? 'Set a field on the selected records (select rows below)' : `Set a field on ${ids.length} selected`}</Heading>
      {error !== null && apiError?.code !== 'validation_failed' && <ErrorMessage error={error} />}
      <label htmlFor={`bulk-field-${entity}`} style={{ display: 'block', fontWeight: 600, margin: '8px 0 4px' }}>Field</label>
      <Select<{ label: string; value: string }> inputId={`bulk-field-${entity}`} options={options} value={field ? { label: field.label, value: field.key } : null}
        onChange={(o) => {
          const f = fields.find((x) => x.key === o?.value) ?? null;
          setField(f);
          setDraft(f ? toDraft(f, null) : '');
        }} />
      {field && (
        <div style={{ marginTop: 8 }}>
          <FieldInput idPrefix={`bulk-${entity}`} field={field} draft={draft} onChange={setDraft} error={apiError ? Object.values(apiError.errors).flat().join('; ') || null : null} />
        </div>
      )}
      <Button type="submit" appearance="primary" isDisabled={!field || ids.length === 0}>Apply to {ids.length}</Button>
    </form>
  );
}

/** Adds the selected customers to an organization, or removes them from it (POST /api/bulk/memberships), and says what reaches JSM. */
function BulkMembership({ api, ids, onDone }: { api: PageContext['api']; ids: string[]; onDone: (message: string) => void }) {
  const [organization, setOrganization] = useState<OrganizationOption | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async (add: boolean) => {
    if (!organization || ids.length === 0) return;
    setError(null);
    try {
      const pairs = ids.map((customerId) => ({ customerId, organizationId: organization.value }));
      const result = await api.bulkMemberships(add ? pairs : [], add ? [] : pairs);
      const appOnly = result.results.filter((r) => r.writeBack?.state === 'not-in-jsm').length;
      onDone(`${add ? `${result.added} added to` : `${result.removed} removed from`} ${organization.label}${result.unchanged ? `, ${result.unchanged} unchanged` : ''}.`
        + (appOnly ? ` ${appOnly} of them only in the app (not in JSM).` : ' JSM is updated in the background.'));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form aria-label="Bulk membership" style={{ marginTop: 12, padding: 12, border: `1px solid ${token('color.border', '#091E4224')}`, borderRadius: 3 }} onSubmit={(e) => e.preventDefault()}>
      <Heading size="xsmall" as="h3">{ids.length === 0 ? 'Organization membership of the selected customers (select rows below)' : `Organization membership of ${ids.length} selected`}</Heading>
      {error !== null && <ErrorMessage error={error} />}
      <label htmlFor="bulk-membership-organization" style={{ display: 'block', fontWeight: 600, margin: '8px 0 4px' }}>Organization</label>
      <OrganizationPicker api={api} inputId="bulk-membership-organization" value={organization} onChange={setOrganization} />
      <div style={{ display: 'flex', gap: 8, marginTop: 8 }}>
        <Button appearance="primary" isDisabled={!organization || ids.length === 0} onClick={() => run(true)}>Add {ids.length} to organization</Button>
        <Button isDisabled={!organization || ids.length === 0} onClick={() => run(false)}>Remove {ids.length} from organization</Button>
      </div>
    </form>
  );
}

function RecordDetails({ api, entity, id, fields, onClose }: { api: PageContext['api']; entity: Entity; id: string; fields: FieldView[]; onClose: () => void }) {
  const record = useLoad(() => api.record(entity, id), [id]);
  const history = useLoad(() => api.history(entity, id), [id, record.data?.version]);
  const [error, setError] = useState<unknown>(null);
  const heading = useRef<HTMLDivElement>(null);
  useEffect(() => heading.current?.focus(), []);
  if (record.loading && !record.data) return <Loading label="Loading record" />;
  if (record.error || !record.data) return <ErrorMessage error={record.error} onReload={record.reload} />;
  const byId = new Map(fields.map((f) => [f.id, f]));
  const describe = (e: HistoryEntry, v: HistoryEntry['newValue']) => {
    const f = e.fieldId ? byId.get(e.fieldId) : undefined;
    return f ? displayValue(f, v) || 'None' : v === null ? 'None' : JSON.stringify(v);
  };
  return (
    <section aria-label={`Details of ${record.data.name}`} style={{ marginTop: 16, padding: 12, border: `1px solid ${token('color.border', '#091E4224')}`, borderRadius: 3 }}>
      <div ref={heading} tabIndex={-1} style={{ display: 'flex', justifyContent: 'flex-end' }}><Button onClick={onClose}>Close details</Button></div>
      <RecordSection title={record.data.name} subtitle={record.data.externalId} record={record.data} fields={fields} api={api} onSaved={record.setData} onReload={record.reload} />
      <Heading size="xsmall" as="h3">History</Heading>
      {error !== null && <ErrorMessage error={error} onReload={() => { setError(null); record.reload(); }} />}
      {history.loading && !history.data ? <Loading label="Loading history" minHeight={40} /> : history.data?.entries.length ? (
        <ol style={{ paddingLeft: 16 }}>
          {history.data.entries.map((e) => (
            <li key={e.id} style={{ padding: '4px 0' }}>
              <span style={subtle}>{new Date(e.occurredAt).toLocaleString()} · {e.actor}</span>{' '}
              {e.fieldKey ? <><strong>{byId.get(e.fieldId ?? '')?.label ?? e.fieldKey}</strong>: {describe(e, e.oldValue)} → {describe(e, e.newValue)}</> : e.action}{' '}
              {e.action.startsWith('value.') && e.fieldId && (
                <Button spacing="compact" onClick={async () => {
                  try {
                    record.setData(await api.restore(e.id));
                  } catch (err) {
                    setError(err);
                  }
                }} aria-label={`Restore ${byId.get(e.fieldId)?.label ?? e.fieldKey} to ${describe(e, e.newValue)}`}>Restore</Button>
              )}
            </li>
          ))}
        </ol>
      ) : <Empty>No changes yet.</Empty>}
    </section>
  );
}

function ExportButton({ api, entity }: { api: PageContext['api']; entity: Entity }) {
  const [busy, setBusy] = useState(false);
  return (
    <Button isLoading={busy} onClick={async () => {
      setBusy(true);
      try {
        const blob = await api.exportCsv(entity);
        const url = URL.createObjectURL(blob);
        const a = document.createElement('a');
        a.href = url;
        a.download = `${entity === 'organization' ? 'organizations' : 'customers'}.csv`;
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } finally {
        setBusy(false);
      }
    }}>Export CSV</Button>
  );
}

function CsvImport({ api, entity, onDone }: { api: PageContext['api']; entity: Entity; onDone: () => void }) {
  const [job, setJob] = useState<ImportJob | null>(null);
  const [errors, setErrors] = useState<ImportError[]>([]);
  const [error, setError] = useState<unknown>(null);
  const input = useRef<HTMLInputElement>(null);
  const running = job && (job.status === 'queued' || job.status === 'running');
  useEffect(() => {
    if (!job || !running) return;
    const timer = setTimeout(async () => {
      try {
        const next = await api.importJob(job.id);
        setJob(next);
        if (next.status !== 'queued' && next.status !== 'running') {
          const list = await api.importErrors(next.id);
          setErrors(Array.isArray(list) ? list : list.values);
          onDone();
        }
      } catch (e) {
        setError(e);
      }
    }, 500);
    return () => clearTimeout(timer);
  }, [api, job, running, onDone]);
  const id = `import-${entity}`;
  const progress = job?.total ? job.done / job.total : 0;
  return (
    <div style={{ marginTop: 12 }}>
      <label htmlFor={id} style={{ fontWeight: 600, marginRight: 8 }}>Import {entity === 'organization' ? 'organizations' : 'customers'} from CSV</label>
      <input id={id} ref={input} type="file" accept=".csv,text/csv" onChange={async (e) => {
        const file = e.target.files?.[0];
        if (!file) return;
        setError(null);
        setErrors([]);
        try {
          setJob(await api.startImport(entity, file));
        } catch (err) {
          setError(err);
        } finally {
          if (input.current) input.current.value = '';
        }
      }} />
      {error !== null && <ErrorMessage error={error} />}
      {job && (
        <div style={{ marginTop: 8 }} aria-label="Import progress">
          <ProgressBar value={job.status === 'succeeded' ? 1 : progress} isIndeterminate={job.status === 'queued' || (job.status === 'running' && !job.total)} ariaLabel="Import progress" />
          <p role="status" style={subtle}>
            {job.status === 'queued' ? 'Waiting to start…' : `${job.done} of ${job.total ?? '?'} rows read, ${job.applied} applied, ${job.failed} with errors (${job.status}).`}
            {job.error ? ` ${job.error}` : ''}
          </p>
          {errors.length > 0 && (
            <table style={{ borderCollapse: 'collapse' }} aria-label="Rows with errors">
              <thead><tr><th style={cell} scope="col">Row</th><th style={cell} scope="col">Column</th><th style={cell} scope="col">Problem</th></tr></thead>
              <tbody>
                {errors.map((r, i) => <tr key={i}><td style={cell}>{r.row}</td><td style={cell}>{r.column ?? ''}</td><td style={cell}>{r.reason}</td></tr>)}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}
