import Button from '@atlaskit/button/new';
import Checkbox from '@atlaskit/checkbox';
import Heading from '@atlaskit/heading';
import Lozenge from '@atlaskit/lozenge';
import ProgressBar from '@atlaskit/progress-bar';
import SectionMessage from '@atlaskit/section-message';
import Select from '@atlaskit/select';
import Tabs, { Tab, TabList, TabPanel } from '@atlaskit/tabs';
import Textfield from '@atlaskit/textfield';
import { token } from '@atlaskit/tokens';
import { useEffect, useRef, useState } from 'react';
import { ApiError, type ApiToken, type EmailRulesDryRun, type HistoryEntry, type Reindex, type Deletion, type DeletionRequested, type SyncRun, type Entity, type FieldType, type FieldView, type LossyChange, type Visibility } from '../api';
import { Empty, ErrorMessage, Loading, subtle, Unlicensed, useLoad } from '../components/common';
import { OrganizationPicker, type OrganizationOption } from '../components/OrganizationPicker';
import { move } from '../forms';
import type { PageContext } from '../shell';

const TYPES: FieldType[] = ['text', 'paragraph', 'number', 'date', 'select', 'multi-select', 'checkbox', 'email', 'url', 'phone', 'user'];
const VISIBILITY: { value: Visibility; label: string }[] = [
  { value: 'agents', label: 'Agents only' },
  { value: 'customers-view', label: 'Customers can view' },
  { value: 'customers-edit', label: 'Customers can edit' },
];
type Opt<T> = { label: string; value: T };

const labelStyle = { display: 'block', fontWeight: 600, marginBottom: 4, color: token('color.text.subtle', '#44546F') } as const;

/** The admin page: field definitions per entity (create, edit, options, visibility, required, archive, reorder). */
export function Configuration({ api, licensed }: PageContext) {
  return (
    <div>
      <Heading size="medium" as="h1">Organization and customer fields</Heading>
      <Unlicensed licensed={licensed} />
      <Tabs id="entity-tabs">
        <TabList>
          <Tab>Organization fields</Tab>
          <Tab>Customer fields</Tab>
          <Tab>API tokens</Tab>
          <Tab>Directory sync</Tab>
          <Tab>Email rules & write-back</Tab>
          <Tab>Your data</Tab>
          <Tab>Audit log</Tab>
        </TabList>
        <TabPanel><FieldsAdmin api={api} entity="organization" /></TabPanel>
        <TabPanel><FieldsAdmin api={api} entity="customer" /></TabPanel>
        <TabPanel><ApiTokens api={api} /></TabPanel>
        <TabPanel><DirectorySync api={api} /><SearchIndex api={api} /></TabPanel>
        <TabPanel><EmailRules api={api} /></TabPanel>
        <TabPanel><YourData api={api} /></TabPanel>
        <TabPanel><AuditLog api={api} /></TabPanel>
      </Tabs>
    </div>
  );
}

function FieldsAdmin({ api, entity }: { api: PageContext['api']; entity: Entity }) {
  const fields = useLoad(() => api.fields(entity, true), [entity]);
  const [announcement, setAnnouncement] = useState('');
  const [error, setError] = useState<unknown>(null);
  if (fields.loading && !fields.data) return <Loading label="Loading fields" />;
  if (fields.error || !fields.data) return <ErrorMessage error={fields.error} onReload={fields.reload} />;
  const list = fields.data;
  const active = list.filter((f) => !f.archived);
  const archived = list.filter((f) => f.archived);
  const replace = (f: FieldView) => fields.setData(list.map((x) => (x.id === f.id ? f : x)));

  const saveOrder = async (ordered: FieldView[]) => {
    fields.setData([...ordered, ...archived]);
    try {
      const saved = await api.reorderFields(entity, ordered.map((f) => f.id));
      fields.setData([...saved.filter((f) => !f.archived), ...archived]);
    } catch (e) {
      setError(e);
      fields.reload();
    }
  };

  return (
    <div style={{ paddingTop: 12, width: '100%' }}>
      <CreateField api={api} entity={entity} onCreated={(f) => fields.setData([...list, f])} />
      {error !== null && <ErrorMessage error={error} onReload={() => { setError(null); fields.reload(); }} />}
      <Heading size="small" as="h2">Fields</Heading>
      <p style={subtle} id={`reorder-help-${entity}`}>
        To reorder with the keyboard, focus a field's handle, press Space to pick it up, the arrow keys to move it and Space to drop it (Escape cancels). You can also drag it.
      </p>
      <div aria-live="assertive" role="status" style={{ position: 'absolute', left: -10000, width: 1, height: 1, overflow: 'hidden' }}>{announcement}</div>
      <ReorderableList entity={entity} fields={active} onReorder={saveOrder} announce={setAnnouncement} render={(f) => <FieldRow api={api} field={f} onChange={replace} />} />
      {archived.length > 0 && (
        <>
          <Heading size="xsmall" as="h3">Archived</Heading>
          <ul style={{ listStyle: 'none', padding: 0 }}>
            {archived.map((f) => (
              <li key={f.id} style={{ padding: '6px 0' }}><FieldRow api={api} field={f} onChange={replace} /></li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** A list reorderable by drag and by keyboard (Space lifts, arrows move, Space drops, Escape cancels). */
function ReorderableList({ entity, fields, onReorder, announce, render }: {
  entity: Entity; fields: FieldView[]; onReorder: (f: FieldView[]) => void; announce: (s: string) => void; render: (f: FieldView) => React.ReactNode;
}) {
  const [lifted, setLifted] = useState<{ id: string; order: FieldView[]; start: number } | null>(null);
  const [dragId, setDragId] = useState<string | null>(null);
  const handles = useRef(new Map<string, HTMLButtonElement>());
  const shown = lifted?.order ?? fields;

  const focusHandle = (id: string) => requestAnimationFrame(() => handles.current.get(id)?.focus());
  const onKey = (e: React.KeyboardEvent, field: FieldView) => {
    const index = shown.findIndex((f) => f.id === field.id);
    if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      if (!lifted) {
        setLifted({ id: field.id, order: fields, start: index });
        announce(`${field.label} picked up, position ${index + 1} of ${fields.length}. Use the arrow keys to move, Space to drop, Escape to cancel.`);
      } else {
        announce(`${field.label} dropped at position ${index + 1} of ${shown.length}.`);
        const order = lifted.order;
        setLifted(null);
        if (index !== lifted.start) onReorder(order);
        focusHandle(field.id);
      }
    } else if (lifted && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault();
      const to = e.key === 'ArrowUp' ? index - 1 : index + 1;
      if (to < 0 || to >= shown.length) return;
      setLifted({ ...lifted, order: move(shown, index, to) });
      announce(`${field.label} moved to position ${to + 1} of ${shown.length}.`);
      focusHandle(field.id);
    } else if (lifted && e.key === 'Escape') {
      e.preventDefault();
      setLifted(null);
      announce(`Reorder cancelled; ${field.label} is back at position ${lifted.start + 1}.`);
      focusHandle(field.id);
    }
  };

  return (
    <ol aria-label={`${entity === 'organization' ? 'Organization' : 'Customer'} fields in order`} aria-describedby={`reorder-help-${entity}`} style={{ listStyle: 'none', padding: 0, margin: 0 }}>
      {shown.map((f) => (
        <li
          key={f.id}
          data-field-key={f.key}
          onDragOver={(e) => {
            if (!dragId || dragId === f.id) return;
            e.preventDefault();
          }}
          onDrop={(e) => {
            e.preventDefault();
            if (!dragId) return;
            const from = fields.findIndex((x) => x.id === dragId);
            const to = fields.findIndex((x) => x.id === f.id);
            setDragId(null);
            if (from >= 0 && to >= 0 && from !== to) onReorder(move(fields, from, to));
          }}
          style={{
            display: 'flex', gap: 8, alignItems: 'flex-start', padding: '6px 4px',
            borderBottom: `1px solid ${token('color.border', '#091E4224')}`,
            background: lifted?.id === f.id ? token('color.background.selected', '#E9F2FF') : undefined,
          }}
        >
          <button
            type="button"
            draggable
            ref={(el) => {
              if (el) handles.current.set(f.id, el);
              else handles.current.delete(f.id);
            }}
            aria-label={`Reorder ${f.label}`}
            aria-pressed={lifted?.id === f.id}
            onKeyDown={(e) => onKey(e, f)}
            onBlur={() => lifted?.id === f.id && requestAnimationFrame(() => document.activeElement !== handles.current.get(f.id) && setLifted(null))}
            onDragStart={(e) => {
              setDragId(f.id);
              e.dataTransfer.effectAllowed = 'move';
              e.dataTransfer.setData('text/plain', f.key);
            }}
            onDragEnd={() => setDragId(null)}
            className="reorder-handle"
            style={{ cursor: 'grab', border: 'none', background: 'transparent', color: token('color.icon', '#44546F'), padding: '4px 6px', borderRadius: 3, fontSize: 16, lineHeight: 1 }}
          >
            <span aria-hidden="true">⠿</span>
          </button>
          <div style={{ flex: 1 }}>{render(f)}</div>
        </li>
      ))}
    </ol>
  );
}

function FieldRow({ api, field, onChange }: { api: PageContext['api']; field: FieldView; onChange: (f: FieldView) => void }) {
  const [open, setOpen] = useState(false);
  const vis = VISIBILITY.find((v) => v.value === field.visibility)!;
  return (
    <div>
      <div style={{ display: 'flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
        <strong>{field.label}</strong>
        <code style={subtle}>{field.key}</code>
        <Lozenge>{field.type}</Lozenge>
        <Lozenge appearance={field.visibility === 'agents' ? 'default' : 'inprogress'}>{vis.label}</Lozenge>
        {field.required && <Lozenge appearance="moved">Required</Lozenge>}
        <span style={{ marginLeft: 'auto' }}>
          <Button onClick={() => setOpen(!open)} aria-expanded={open} aria-label={`${open ? 'Close' : 'Edit'} ${field.label}`}>{open ? 'Close' : 'Edit'}</Button>
        </span>
      </div>
      {open && <FieldEditor api={api} field={field} onChange={onChange} />}
    </div>
  );
}

function FieldEditor({ api, field, onChange }: { api: PageContext['api']; field: FieldView; onChange: (f: FieldView) => void }) {
  const [label, setLabel] = useState(field.label);
  const [visibility, setVisibility] = useState<Visibility>(field.visibility);
  const [required, setRequired] = useState(field.required);
  const [jqlSearchable, setJqlSearchable] = useState(field.jqlSearchable ?? false);
  const [newOption, setNewOption] = useState('');
  const [newType, setNewType] = useState<FieldType>(field.type);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const p = `f-${field.key}`;
  const apiErrors = error instanceof ApiError ? error.errors : {};
  const run = async (action: () => Promise<FieldView>, done: string) => {
    setError(null);
    try {
      const f = await action();
      onChange(f);
      setStatus(done);
      return f;
    } catch (e) {
      setError(e);
      return null;
    }
  };
  return (
    <div style={{ padding: 8, marginTop: 6, border: `1px solid ${token('color.border', '#091E4224')}`, borderRadius: 3 }}>
      {error !== null && !(error instanceof ApiError && error.code === 'validation_failed') && <ErrorMessage error={error} />}
      <form
        aria-label={`Settings of ${field.label}`}
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api.updateField(field, { label, visibility, required, jqlSearchable }), `${label} saved.`);
        }}
      >
        <label htmlFor={`${p}-label`} style={labelStyle}>Label</label>
        <Textfield id={`${p}-label`} value={label} onChange={(e) => setLabel((e.target as HTMLInputElement).value)} isInvalid={!!apiErrors.label} />
        {apiErrors.label && <p role="alert">Label {apiErrors.label.join('; ')}</p>}
        <div style={{ marginTop: 8 }}>
          <label htmlFor={`${p}-visibility`} style={labelStyle}>Visibility</label>
          <Select<Opt<Visibility>> inputId={`${p}-visibility`} options={VISIBILITY} value={VISIBILITY.find((v) => v.value === visibility)} onChange={(o) => o && setVisibility(o.value)} />
        </div>
        <div style={{ marginTop: 8 }}>
          <Checkbox id={`${p}-required`} label="Required" isChecked={required} onChange={(e) => setRequired(e.target.checked)} />
        </div>
        <JqlCheckbox id={`${p}-jql`} entity={field.entity} fieldKey={field.key} checked={jqlSearchable} onChange={setJqlSearchable} />
        <div style={{ display: 'flex', gap: 8, marginTop: 8 }}>
          <Button type="submit" appearance="primary">Save {field.label}</Button>
          <Button onClick={() => void run(() => api.updateField(field, { archived: !field.archived }), `${field.label} ${field.archived ? 'restored' : 'archived'}.`)}>
            {field.archived ? 'Unarchive' : 'Archive'}
          </Button>
        </div>
      </form>
      <form
        aria-label={`Change the type of ${field.label}`}
        style={{ display: 'flex', gap: 8, alignItems: 'flex-end', marginTop: 12 }}
        onSubmit={(e) => {
          e.preventDefault();
          if (newType !== field.type) void run(() => api.changeType(field, newType), `${field.label} is now ${newType}.`);
        }}
      >
        <div style={{ flex: 1 }}>
          <label htmlFor={`${p}-type`} style={labelStyle}>Type</label>
          <Select<Opt<FieldType>> inputId={`${p}-type`} options={TYPES.map((t) => ({ label: t, value: t }))} value={{ label: newType, value: newType }} onChange={(o) => o && setNewType(o.value)} />
        </div>
        <Button type="submit" isDisabled={newType === field.type}>Change type</Button>
      </form>
      {error instanceof ApiError && error.code === 'field.type_change_lossy' && <LossyReport change={error.details as LossyChange} />}
      {field.options && (
        <div style={{ marginTop: 12 }}>
          <Heading size="xxsmall" as="h4">Options</Heading>
          <ul style={{ paddingLeft: 16 }}>
            {field.options.map((o) => (
              <li key={o.id} style={{ display: 'flex', gap: 8, alignItems: 'center', padding: '2px 0' }}>
                <span style={o.retired ? { textDecoration: 'line-through', ...subtle } : undefined}>{o.label}</span>
                <Button spacing="compact" onClick={() => void run(() => api.updateOption(field, o.id, { retired: !o.retired }), `${o.label} ${o.retired ? 'restored' : 'retired'}.`)}>
                  {o.retired ? `Restore ${o.label}` : `Retire ${o.label}`}
                </Button>
              </li>
            ))}
          </ul>
          <form
            aria-label={`Add an option to ${field.label}`}
            onSubmit={async (e) => {
              e.preventDefault();
              if (await run(() => api.addOption(field, newOption), `${newOption} added.`)) setNewOption('');
            }}
            style={{ display: 'flex', gap: 8, alignItems: 'flex-end' }}
          >
            <div style={{ flex: 1 }}>
              <label htmlFor={`${p}-new-option`} style={labelStyle}>New option</label>
              <Textfield id={`${p}-new-option`} value={newOption} onChange={(e) => setNewOption((e.target as HTMLInputElement).value)} />
            </div>
            <Button type="submit">Add option</Button>
          </form>
          {apiErrors.label && <p role="alert">{apiErrors.label.join('; ')}</p>}
        </div>
      )}
      <p role="status" style={subtle}>{status}</p>
    </div>
  );
}

/** "Searchable in JQL", with what it means: the values leave the app for an issue property any user of the site can read. */
function JqlCheckbox({ id, entity, fieldKey, checked, onChange }: { id: string; entity: Entity; fieldKey: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <div style={{ marginTop: 8 }}>
      <Checkbox id={id} label="Searchable in JQL" isChecked={checked} onChange={(e) => onChange(e.target.checked)} aria-describedby={`${id}-help`} />
      <p id={`${id}-help`} style={{ ...subtle, margin: '2px 0 0 24px' }}>
        Agents can then search with {entity}.{fieldKey} (=, ~, &lt;, &gt;). The values are written into a property of each request the customer
        reported, and entity properties can be read by any user of the site who can see the request, whatever the field's visibility here.
      </p>
    </div>
  );
}

function CreateField({ api, entity, onCreated }: { api: PageContext['api']; entity: Entity; onCreated: (f: FieldView) => void }) {
  const empty = { key: '', label: '', type: 'text' as FieldType, visibility: 'agents' as Visibility, required: false, jqlSearchable: false, options: '' };
  const [form, setForm] = useState(empty);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const p = `new-${entity}`;
  const errors = error instanceof ApiError ? error.errors : {};
  const typeOptions = TYPES.map((t) => ({ label: t, value: t }));
  const fieldError = (name: string) => errors[name] && <p id={`${p}-${name}-error`} style={{ color: token('color.text.danger', '#AE2E24'), margin: '4px 0 0' }}>{errors[name]!.join('; ')}</p>;
  const hasOptions = form.type === 'select' || form.type === 'multi-select';
  return (
    <form
      aria-label={`Create ${entity} field`}
      style={{ marginBottom: 16, padding: 12, border: `1px solid ${token('color.border', '#091E4224')}`, borderRadius: 3 }}
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          const created = await api.createField({
            entity, key: form.key.trim(), label: form.label.trim(), type: form.type, visibility: form.visibility, required: form.required, jqlSearchable: form.jqlSearchable,
            ...(hasOptions ? { options: form.options.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
          });
          onCreated(created);
          setStatus(`${created.label} created.`);
          setForm(empty);
        } catch (err) {
          setError(err);
        }
      }}
    >
      <Heading size="small" as="h2">New {entity} field</Heading>
      {error !== null && (!(error instanceof ApiError) || error.code !== 'validation_failed') && <ErrorMessage error={error} />}
      <div style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(200px, 1fr))', gap: 12, marginTop: 8 }}>
        <div>
          <label htmlFor={`${p}-label`} style={labelStyle}>Label</label>
          <Textfield id={`${p}-label`} value={form.label} aria-describedby={errors.label ? `${p}-label-error` : undefined}
            onChange={(e) => {
              const label = (e.target as HTMLInputElement).value;
              setForm((f) => ({ ...f, label, key: f.key === slug(f.label) ? slug(label) : f.key }));
            }} />
          {fieldError('label')}
        </div>
        <div>
          <label htmlFor={`${p}-key`} style={labelStyle}>Key (in API, CSV and JQL)</label>
          <Textfield id={`${p}-key`} value={form.key} aria-describedby={errors.key ? `${p}-key-error` : undefined} onChange={(e) => setForm((f) => ({ ...f, key: (e.target as HTMLInputElement).value }))} />
          {fieldError('key')}
        </div>
        <div>
          <label htmlFor={`${p}-type`} style={labelStyle}>Type</label>
          <Select<Opt<FieldType>> inputId={`${p}-type`} options={typeOptions} value={typeOptions.find((t) => t.value === form.type)} onChange={(o) => o && setForm((f) => ({ ...f, type: o.value }))} />
        </div>
        <div>
          <label htmlFor={`${p}-visibility`} style={labelStyle}>Visibility</label>
          <Select<Opt<Visibility>> inputId={`${p}-visibility`} options={VISIBILITY} value={VISIBILITY.find((v) => v.value === form.visibility)} onChange={(o) => o && setForm((f) => ({ ...f, visibility: o.value }))} />
        </div>
        {hasOptions && (
          <div>
            <label htmlFor={`${p}-options`} style={labelStyle}>Options (separated by commas)</label>
            <Textfield id={`${p}-options`} value={form.options} onChange={(e) => setForm((f) => ({ ...f, options: (e.target as HTMLInputElement).value }))} />
            {fieldError('options')}
          </div>
        )}
      </div>
      <div style={{ marginTop: 8 }}>
        <Checkbox id={`${p}-required`} label="Required" isChecked={form.required} onChange={(e) => setForm((f) => ({ ...f, required: e.target.checked }))} />
      </div>
      <JqlCheckbox id={`${p}-jql`} entity={entity} fieldKey={form.key.trim() || 'key'} checked={form.jqlSearchable} onChange={(v) => setForm((f) => ({ ...f, jqlSearchable: v }))} />
      <div style={{ marginTop: 8 }}>
        <Button type="submit" appearance="primary">Create field</Button>
        <span role="status" style={{ marginLeft: 8, ...subtle }}>{status}</span>
      </div>
    </form>
  );
}

const slug = (label: string) => label.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').replace(/^(\d)/, 'f_$1').slice(0, 64);

/** What a type change would lose, as the API reported it (409 field.type_change_lossy): nothing was changed. */
function LossyReport({ change }: { change: LossyChange | null }) {
  if (!change) return null;
  return (
    <div style={{ marginTop: 8 }}>
      <p>{change.total} value(s) would not convert without loss{change.values.length < change.total ? ` (first ${change.values.length} shown)` : ''}. Fix or clear them, then change the type again.</p>
      <table aria-label="Values that would not convert" style={{ borderCollapse: 'collapse' }}>
        <thead><tr><th scope="col" style={cellStyle}>Record</th><th scope="col" style={cellStyle}>Value</th><th scope="col" style={cellStyle}>Why</th></tr></thead>
        <tbody>
          {change.values.map((v) => <tr key={v.recordId}><td style={cellStyle}>{v.name}</td><td style={cellStyle}>{v.value}</td><td style={cellStyle}>{v.reason}</td></tr>)}
        </tbody>
      </table>
    </div>
  );
}

const cellStyle = { padding: '4px 8px', borderBottom: `1px solid ${token('color.border', '#091E4224')}`, textAlign: 'left' as const };

/** API tokens for integrations: the token is shown once, at creation; the list shows use and revocation. */
function ApiTokens({ api }: { api: PageContext['api'] }) {
  const tokens = useLoad(() => api.apiTokens(), []);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['read']);
  const [created, setCreated] = useState<ApiToken | null>(null);
  const [error, setError] = useState<unknown>(null);
  const toggle = (scope: string, on: boolean) => setScopes((s) => (on ? [...s, scope] : s.filter((x) => x !== scope)));
  const errors = error instanceof ApiError ? error.errors : {};
  return (
    <div style={{ paddingTop: 12, width: '100%' }}>
      <form
        aria-label="Create an API token"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            const token = await api.createApiToken(name.trim(), scopes);
            setCreated(token);
            setName('');
            tokens.reload();
          } catch (err) {
            setError(err);
          }
        }}
        style={{ marginBottom: 16 }}
      >
        <Heading size="small" as="h2">New API token</Heading>
        {error !== null && !(error instanceof ApiError && error.code === 'validation_failed') && <ErrorMessage error={error} />}
        <label htmlFor="token-name" style={labelStyle}>Name (what the integration is)</label>
        <Textfield id="token-name" value={name} onChange={(e) => setName((e.target as HTMLInputElement).value)} aria-describedby={errors.name ? 'token-name-error' : undefined} />
        {errors.name && <p id="token-name-error" style={{ color: token('color.text.danger', '#AE2E24') }}>Name {errors.name.join('; ')}</p>}
        <fieldset style={{ border: 'none', padding: 0, margin: '8px 0' }}>
          <legend style={labelStyle}>Scopes</legend>
          <Checkbox id="token-scope-read" label="read: fields, records, history, issue panel" isChecked={scopes.includes('read')} onChange={(e) => toggle('read', e.target.checked)} />
          <Checkbox id="token-scope-write" label="write: record values, bulk edit, restore" isChecked={scopes.includes('write')} onChange={(e) => toggle('write', e.target.checked)} />
          {errors.scopes && <p style={{ color: token('color.text.danger', '#AE2E24') }}>Scopes {errors.scopes.join('; ')}</p>}
        </fieldset>
        <Button type="submit" appearance="primary">Create token</Button>
      </form>
      {created?.token && (
        <div role="status" style={{ marginBottom: 16 }}>
          <SectionMessage appearance="success" title={`Token ${created.name} created`}>
            <p>Copy it now: it is shown only once and stored only as a hash.</p>
            <label htmlFor="token-value" style={labelStyle}>Token</label>
            <Textfield id="token-value" isReadOnly value={created.token} onFocus={(e) => (e.target as HTMLInputElement).select()} />
          </SectionMessage>
        </div>
      )}
      <Heading size="small" as="h2">Tokens</Heading>
      {tokens.loading && !tokens.data ? <Loading label="Loading tokens" minHeight={40} /> : tokens.error || !tokens.data ? <ErrorMessage error={tokens.error} onReload={tokens.reload} /> : tokens.data.length === 0 ? (
        <p style={subtle}>No API tokens yet.</p>
      ) : (
        <table aria-label="API tokens" style={{ borderCollapse: 'collapse', width: '100%' }}>
          <thead><tr>{['Name', 'Scopes', 'Created', 'Last used', 'State', ''].map((h, i) => <th key={i} scope="col" style={cellStyle}>{h}</th>)}</tr></thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.id}>
                <td style={cellStyle}>{t.name}</td>
                <td style={cellStyle}>{t.scopes.join(', ')}</td>
                <td style={cellStyle}>{new Date(t.createdAt).toLocaleString()} by {t.createdBy}</td>
                <td style={cellStyle}>{t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : 'Never'}</td>
                <td style={cellStyle}>{t.revokedAt ? <Lozenge appearance="removed">Revoked</Lozenge> : <Lozenge appearance="success">Active</Lozenge>}</td>
                <td style={cellStyle}>
                  {!t.revokedAt && <Button spacing="compact" onClick={async () => {
                    try {
                      await api.revokeApiToken(t.id);
                      tokens.reload();
                    } catch (err) {
                      setError(err);
                    }
                  }} aria-label={`Revoke ${t.name}`}>Revoke</Button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Export everything the app stores for the site, or delete it all (two steps: the admin types the site's phrase back). */
function YourData({ api }: { api: PageContext['api'] }) {
  const [exporting, setExporting] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [request, setRequest] = useState<DeletionRequested | null>(null);
  const [typed, setTyped] = useState('');
  const [deletion, setDeletion] = useState<Deletion | null>(null);
  const running = deletion !== null && (deletion.state === 'Requested' || deletion.state === 'Running');
  useEffect(() => {
    if (!deletion || !running) return;
    const timer = setTimeout(async () => {
      try {
        setDeletion(await api.deletion(deletion.id));
      } catch (e) {
        setError(e);
      }
    }, 1000);
    return () => clearTimeout(timer);
  }, [api, deletion, running]);
  const rows = deletion ? Object.values(deletion.rowCounts).reduce((a, b) => a + b, 0) : 0;
  return (
    <div style={{ paddingTop: 12, maxWidth: 640 }}>
      {error !== null && <ErrorMessage error={error} />}
      <Heading size="small" as="h2">Export</Heading>
      <p>One JSON file with everything the app stores for this site: field definitions and options, organizations and customers with their values, memberships, API token names (never their secrets), imports and the audit log.</p>
      <Button isLoading={exporting} onClick={async () => {
        setExporting(true);
        setError(null);
        try {
          const file = await api.exportAll();
          const url = URL.createObjectURL(file);
          const link = document.createElement('a');
          link.href = url;
          link.download = 'connectapp-export.json';
          link.click();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
        } catch (e) {
          setError(e);
        } finally {
          setExporting(false);
        }
      }}>Download all data</Button>

      <div style={{ marginTop: 24 }}>
        <Heading size="small" as="h2">Delete all data</Heading>
      </div>
      <p>Deletes every field, value, organization and customer record, membership, import, API token, audit entry and search entry the app holds for this site, now. The app stays installed and starts empty. This cannot be undone: download an export first if you may need the data.</p>
      {deletion ? (
        <p role="status" aria-live="polite">
          {deletion.state === 'Done' ? `All data deleted (${rows} rows).` : deletion.state === 'Cancelled' ? 'The deletion was cancelled.' : `Deleting… ${rows} rows so far.`}
        </p>
      ) : request ? (
        <form aria-label="Confirm deleting all data" onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            setDeletion(await api.confirmDeletion(request.confirmationToken, typed));
          } catch (err) {
            setError(err);
          }
        }}>
          <SectionMessage appearance="error" title="This deletes all of the app's data for this site">
            <p>To confirm, type <strong>{request.confirmationPhrase}</strong> below (within 10 minutes).</p>
          </SectionMessage>
          <label htmlFor="deletion-phrase" style={{ display: 'block', fontWeight: 600, margin: '8px 0 4px' }}>Confirmation phrase</label>
          <Textfield id="deletion-phrase" value={typed} autoComplete="off" onChange={(e) => setTyped((e.target as HTMLInputElement).value)} />
          <div style={{ display: 'flex', gap: 8, marginTop: 8 }}>
            <Button type="submit" appearance="danger" isDisabled={typed !== request.confirmationPhrase}>Delete everything</Button>
            <Button onClick={() => { setRequest(null); setTyped(''); }}>Cancel</Button>
          </div>
        </form>
      ) : (
        <Button appearance="warning" onClick={async () => {
          setError(null);
          try {
            setRequest(await api.requestDeletion());
          } catch (e) {
            setError(e);
          }
        }}>Delete all data…</Button>
      )}
    </div>
  );
}

/** The organizations and customers come from JSM: the latest syncs, and a way to run one now (progress until it ends). */
function DirectorySync({ api }: { api: PageContext['api'] }) {
  const runs = useLoad(() => api.syncRuns(), []);
  const [error, setError] = useState<unknown>(null);
  const latest = runs.data?.[0];
  const active = latest !== undefined && (latest.status === 'queued' || latest.status === 'running');
  useEffect(() => {
    if (!active) return;
    const timer = setTimeout(runs.reload, 1000); // poll while a sync is queued or running
    return () => clearTimeout(timer);
  }, [active, runs.data, runs.reload]);
  return (
    <div style={{ paddingTop: 12 }}>
      <p>Organizations, customers and memberships are read from Jira Service Management when the app is installed and whenever you run a sync. Records JSM no longer has are marked removed; their values are kept.</p>
      {error !== null && <ErrorMessage error={error} />}
      <Button appearance="primary" isDisabled={active} onClick={async () => {
        setError(null);
        try {
          await api.startSync();
          runs.reload();
        } catch (e) {
          setError(e);
        }
      }}>Sync now</Button>
      {latest && (
        <p role="status" aria-live="polite" style={{ marginTop: 8 }}>
          {active
            ? `Syncing (${latest.phase}): ${latest.done} of ${latest.total ?? '?'} records${latest.etaSeconds ? `, about ${Math.ceil(latest.etaSeconds)} s left` : ''}.`
            : latest.status === 'succeeded'
              ? `Last sync finished: ${latest.created} created, ${latest.updated} updated, ${latest.removed} removed, ${latest.restored} restored.`
              : latest.status === 'skipped'
                ? 'The last sync was skipped: another sync of this site was running at the time.'
                : `Last sync failed: ${latest.error ?? 'unknown error'}.`}
        </p>
      )}
      {runs.loading && !runs.data ? <Loading label="Loading syncs" /> : runs.error ? <ErrorMessage error={runs.error} onReload={runs.reload} /> : (
        <table style={{ borderCollapse: 'collapse', marginTop: 12 }} aria-label="Recent syncs">
          <thead>
            <tr>{['Started', 'Trigger', 'Status', 'Records', 'Created', 'Updated', 'Removed', 'Restored', 'Errors'].map((h) => <th key={h} scope="col" style={{ textAlign: 'left', padding: '4px 8px' }}>{h}</th>)}</tr>
          </thead>
          <tbody>
            {(runs.data ?? []).map((r: SyncRun) => (
              <tr key={r.id}>
                <td style={{ padding: '4px 8px' }}>{new Date(r.startedAt ?? r.createdAt).toLocaleString()}</td>
                <td style={{ padding: '4px 8px' }}>{r.trigger}</td>
                <td style={{ padding: '4px 8px' }}><Lozenge appearance={r.status === 'succeeded' ? 'success' : r.status === 'failed' ? 'removed' : r.status === 'skipped' ? 'default' : 'inprogress'}>{r.status}</Lozenge></td>
                <td style={{ padding: '4px 8px' }}>{r.done}{r.total !== null ? ` / ${r.total}` : ''}</td>
                <td style={{ padding: '4px 8px' }}>{r.created}</td>
                <td style={{ padding: '4px 8px' }}>{r.updated}</td>
                <td style={{ padding: '4px 8px' }}>{r.removed}</td>
                <td style={{ padding: '4px 8px' }}>{r.restored}</td>
                <td style={{ padding: '4px 8px' }}>{r.errors}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

const cell = { padding: '4px 8px', textAlign: 'left' as const };

/** Email-domain rules (with a dry run before anything changes) and the membership changes JSM refused. */
function EmailRules({ api }: { api: PageContext['api'] }) {
  const rules = useLoad(() => api.emailRules(), []);
  const failed = useLoad(() => api.writeBacks('failed'), []);
  const [domain, setDomain] = useState('');
  const [organization, setOrganization] = useState<OrganizationOption | null>(null);
  const [preview, setPreview] = useState<EmailRulesDryRun | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const act = async (work: () => Promise<void>) => {
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div style={{ paddingTop: 12 }}>
      <p>Customers whose email address is in a domain join that domain's organization, in the app and in JSM: when they are synced from JSM, when they are created here, and when you add them now. Use <code>acme.com</code> for one domain, <code>*.acme.co.uk</code> for every subdomain of it. Each addition is in the audit log with its rule.</p>
      {status && <p role="status" aria-live="polite">{status}</p>}
      {error !== null && <ErrorMessage error={error} />}
      {rules.loading && !rules.data ? <Loading label="Loading email rules" minHeight={40} /> : rules.error ? <ErrorMessage error={rules.error} onReload={rules.reload} /> : (
        <table style={{ borderCollapse: 'collapse' }} aria-label="Email-domain rules">
          <thead><tr><th scope="col" style={cell}>Domain</th><th scope="col" style={cell}>Organization</th><th scope="col" style={cell}>Actions</th></tr></thead>
          <tbody>
            {(rules.data ?? []).length === 0 && <tr><td colSpan={3} style={{ ...cell, ...subtle }}>No rules yet.</td></tr>}
            {(rules.data ?? []).map((r) => (
              <tr key={r.id}>
                <td style={cell}>{r.domain}</td>
                <td style={cell}>{r.organizationName ?? r.organizationId}</td>
                <td style={cell}><Button appearance="subtle" aria-label={`Delete the rule for ${r.domain}`} onClick={() => act(async () => {
                  await api.deleteEmailRule(r.id);
                  setPreview(null);
                  setStatus(`Deleted the rule for ${r.domain}; memberships it added stay.`);
                  rules.reload();
                })}>Delete</Button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form aria-label="Add an email rule" style={{ display: 'flex', gap: 8, alignItems: 'flex-end', marginTop: 12, flexWrap: 'wrap' }} onSubmit={(e) => {
        e.preventDefault();
        void act(async () => {
          const rule = await api.createEmailRule(domain.trim(), organization!.value);
          setDomain('');
          setOrganization(null);
          setPreview(null);
          setStatus(`Customers at ${rule.domain} now join ${rule.organizationName ?? 'the organization'}. Preview who that adds today, then add them.`);
          rules.reload();
        });
      }}>
        <label>
          <span style={{ display: 'block', marginBottom: 4 }}>Email domain</span>
          <Textfield aria-label="Email domain" value={domain} onChange={(e) => setDomain(e.currentTarget.value)} placeholder="acme.com or *.acme.co.uk" />
        </label>
        <div style={{ minWidth: 260 }}>
          <span style={{ display: 'block', marginBottom: 4 }} id="rule-organization-label">Organization</span>
          <OrganizationPicker api={api} inputId="rule-organization" labelledBy="rule-organization-label" value={organization} onChange={setOrganization} />
        </div>
        <Button type="submit" appearance="primary" isDisabled={domain.trim().length === 0 || organization === null}>Add rule</Button>
      </form>
      <div style={{ display: 'flex', gap: 8, marginTop: 16 }}>
        <Button onClick={() => act(async () => {
          setStatus(null);
          setPreview(await api.emailRulesDryRun());
        })}>Preview who the rules add</Button>
        <Button appearance="primary" isDisabled={!preview || preview.total === 0} onClick={() => act(async () => {
          const result = await api.applyEmailRules();
          setPreview(null);
          setStatus(`Added ${result.added} ${result.added === 1 ? 'customer' : 'customers'} to their organizations; JSM is updated in the background.`);
          failed.reload();
        })}>Add them now</Button>
      </div>
      {preview && (preview.total === 0 ? <Empty>The rules add nobody today: everyone they match already belongs.</Empty> : (
        <table style={{ borderCollapse: 'collapse', marginTop: 8 }} aria-label="Who the rules would add">
          <caption style={{ textAlign: 'left', ...subtle }}>{preview.total} {preview.total === 1 ? 'customer' : 'customers'} would be added{preview.truncated ? ` (the first ${preview.additions.length} are shown)` : ''}. Nothing has changed yet.</caption>
          <thead><tr>{['Customer', 'Email', 'Organization', 'Rule'].map((h) => <th key={h} scope="col" style={cell}>{h}</th>)}</tr></thead>
          <tbody>
            {preview.additions.map((a) => (
              <tr key={`${a.customerId}-${a.organizationId}`}><td style={cell}>{a.customerName}</td><td style={cell}>{a.email}</td><td style={cell}>{a.organizationName}</td><td style={cell}>{a.domain}</td></tr>
            ))}
          </tbody>
        </table>
      ))}
      <Heading size="small" as="h3">Membership changes JSM refused</Heading>
      {failed.loading && !failed.data ? <Loading label="Loading write-back failures" minHeight={40} /> : failed.error ? <ErrorMessage error={failed.error} onReload={failed.reload} /> : (
        (failed.data?.values ?? []).length === 0 ? <Empty>None: every membership change made here reached JSM (or is on its way).</Empty> : (
          <>
            <table style={{ borderCollapse: 'collapse' }} aria-label="Failed write-backs">
              <thead><tr>{['Change', 'Customer', 'Organization', 'Why', 'Attempts'].map((h) => <th key={h} scope="col" style={cell}>{h}</th>)}</tr></thead>
              <tbody>
                {failed.data!.values.map((w) => (
                  <tr key={w.id}>
                    <td style={cell}><Lozenge appearance="removed">{w.operation}</Lozenge></td>
                    <td style={cell}>{w.customerName ?? w.accountId ?? w.customerId}</td>
                    <td style={cell}>{w.organizationName ?? w.organizationJsmId ?? w.organizationId}</td>
                    <td style={cell}>{w.reason}</td>
                    <td style={cell}>{w.attempts}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Button onClick={() => act(async () => {
              const result = await api.retryWriteBacks();
              setStatus(`Retrying ${result.retried} ${result.retried === 1 ? 'change' : 'changes'} in the background.`);
              failed.reload();
            })}>Retry all</Button>
          </>
        )
      )}
    </div>
  );
}

const everything = { label: 'Everything', value: '' };
const auditKinds = [
  everything,
  { label: 'Values', value: 'value.' },
  { label: 'Records', value: 'record.' },
  { label: 'Memberships', value: 'membership.' },
  { label: 'Fields', value: 'field.' },
  { label: 'API tokens', value: 'api_token.' },
];

/** The site's audit log, newest first, 50 at a time: who changed what, with old and new values. */
function AuditLog({ api }: { api: PageContext['api'] }) {
  const [kind, setKind] = useState(everything);
  const [entries, setEntries] = useState<HistoryEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const first = useLoad(async () => {
    const page = await api.audit(kind.value);
    setEntries(page.entries);
    setNext(page.nextBefore);
    return page;
  }, [kind.value]);
  const [error, setError] = useState<unknown>(null);
  const show = (v: HistoryEntry['newValue']) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  return (
    <div style={{ paddingTop: 12 }}>
      <p>Every change the app made for this site, newest first: fields, values, memberships, rules, tokens, syncs and data requests, with who made it. The export holds all of it.</p>
      <div style={{ maxWidth: 260, marginBottom: 8 }}>
        <label htmlFor="audit-kind" style={{ display: 'block', marginBottom: 4 }}>Show</label>
        <Select inputId="audit-kind" options={auditKinds} value={kind} onChange={(o) => o && setKind(o)} />
      </div>
      {error !== null && <ErrorMessage error={error} />}
      {first.loading && !first.data ? <Loading label="Loading the audit log" /> : first.error ? <ErrorMessage error={first.error} onReload={first.reload} /> : entries.length === 0 ? <Empty>Nothing recorded yet.</Empty> : (
        <>
          <table style={{ borderCollapse: 'collapse' }} aria-label="Audit log">
            <thead><tr>{['When', 'Who', 'What', 'Subject', 'Field', 'Before', 'After'].map((h) => <th key={h} scope="col" style={cell}>{h}</th>)}</tr></thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td style={cell}>{new Date(e.occurredAt).toLocaleString()}</td>
                  <td style={cell}>{e.actor}</td>
                  <td style={cell}>{e.action}</td>
                  <td style={cell}>{e.subject}</td>
                  <td style={cell}>{e.fieldKey ?? ''}</td>
                  <td style={cell}>{show(e.oldValue)}</td>
                  <td style={cell}>{show(e.newValue)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {next !== null && (
            <Button onClick={async () => {
              setError(null);
              try {
                const page = await api.audit(kind.value, next);
                setEntries((current) => [...current, ...page.entries]);
                setNext(page.nextBefore);
              } catch (e) {
                setError(e);
              }
            }}>Show older</Button>
          )}
        </>
      )}
    </div>
  );
}

/** Rebuilds the site's search index from PostgreSQL (search keeps answering meanwhile), with progress. */
function SearchIndex({ api }: { api: PageContext['api'] }) {
  const [run, setRun] = useState<Reindex | null>(null);
  const [error, setError] = useState<unknown>(null);
  const active = run !== null && (run.status === 'queued' || run.status === 'running');
  useEffect(() => {
    if (!run || !active) return;
    const timer = setTimeout(async () => {
      try {
        setRun(await api.reindex(run.id));
      } catch (e) {
        setError(e);
      }
    }, 500);
    return () => clearTimeout(timer);
  }, [api, run, active]);
  return (
    <section aria-labelledby="search-index-heading" style={{ marginTop: 24 }}>
      <Heading size="small" as="h3" id="search-index-heading">Search index</Heading>
      <p>The directory searches an index that follows every change a moment later. If the directory says changes could not be applied to it, rebuild it from the database; searching keeps working meanwhile.</p>
      {error !== null && <ErrorMessage error={error} />}
      <Button isDisabled={active} onClick={async () => {
        setError(null);
        try {
          setRun(await api.startReindex());
        } catch (e) {
          setError(e);
        }
      }}>Rebuild the search index</Button>
      {run && (
        <div style={{ marginTop: 8 }}>
          <ProgressBar ariaLabel="Search index rebuild" value={run.total > 0 ? run.done / run.total : run.status === 'succeeded' ? 1 : 0} isIndeterminate={run.status === 'queued'} />
          <p role="status" aria-live="polite" style={subtle}>
            {run.status === 'succeeded' ? `Search index rebuilt: ${run.done} records.`
              : run.status === 'failed' ? `The rebuild failed: ${run.error ?? 'unknown error'}.`
                : run.status === 'queued' ? 'Waiting for a worker…'
                  : `Rebuilding: ${run.done} of ${run.total} records${run.etaSeconds ? `, about ${Math.ceil(run.etaSeconds)} s left` : ''}.`}
          </p>
        </div>
      )}
    </section>
  );
}
