import type { Bridge } from './bridge';

export type Entity = 'organization' | 'customer';
export type FieldType = 'text' | 'paragraph' | 'number' | 'date' | 'select' | 'multi-select' | 'checkbox' | 'email' | 'url' | 'phone' | 'user';
export type Visibility = 'agents' | 'customers-view' | 'customers-edit';
export type Value = string | number | boolean | string[] | null;

export interface OptionView { id: string; label: string; position: number; retired: boolean }
export interface FieldView {
  id: string; entity: Entity; key: string; label: string; description: string | null; type: FieldType; required: boolean;
  visibility: Visibility; position: number; archived: boolean; min: number | null; max: number | null; decimals: number | null;
  version: number; options: OptionView[] | null;
  /** Its values go into the JQL property of the reporters' issues (customer.<key> / organization.<key>): readable by any user of the site who can see the issue. */
  jqlSearchable?: boolean;
}
export interface RecordView {
  id: string; entity: Entity; externalId: string; name: string; email: string | null; version: number;
  organizationIds: string[] | null; values: Record<string, Value>;
  /** Set when the directory sync found the record gone from JSM (its values are kept). */
  removedAt?: string | null;
}
export interface Page<T> { values: T[]; nextCursor: string | null }
/** One condition of a directory search (see POST /api/search/...): equals for choices, numbers, dates; contains for text. */
export interface SearchFilter { field: string; op: 'equals' | 'contains'; value: Value }
/** What a saved view restores: the search, whether records removed from JSM show, and the columns (field keys, in order). */
export interface ViewDefinition { q: string | null; filters: SearchFilter[]; sort?: string | null; showRemoved: boolean; columns: string[] | null }
/** An agent's saved directory view: theirs (mine), or one another agent shared. */
export interface SavedView { id: string; entity: Entity; name: string; shared: boolean; mine: boolean; definition: ViewDefinition; createdAt: string; updatedAt: string }
/** A directory search's page: the total (counted up to 1,000; totalExact false: at least that many), and how far behind PostgreSQL the search index is. */
export interface SearchPage extends Page<RecordView> { total: number; totalExact: boolean; freshness: { pendingChanges: number; lagSeconds: number; failedChanges: number } }
export interface IssuePanel {
  people: { accountId: string; customer: RecordView | null }[];
  organizations: RecordView[]; customerFields: FieldView[]; organizationFields: FieldView[];
  requestCounts: RequestCounts;
}
/** Open and closed requests from Jira; available false (reason jira-slow, jira-unavailable, no-reporter) when the panel did not wait for them. */
export interface RequestCounts {
  available: boolean; reason: string | null;
  reporter: { open: number; closed: number } | null;
  organizations: { organizationId: string; name: string; open: number; closed: number }[] | null;
}
export interface PortalMe { customer: RecordView | null; organizations: RecordView[]; customerFields: FieldView[]; organizationFields: FieldView[] }
export interface HistoryEntry {
  id: number; occurredAt: string; actor: string; action: string; subject: string; recordId: string | null; fieldId: string | null;
  fieldKey: string | null; oldValue: Value; newValue: Value;
}
export interface ImportJob {
  id: string; entity: Entity; status: 'queued' | 'running' | 'succeeded' | 'failed' | string; total: number | null; done: number; failed: number;
  applied: number; errorsStored: number; errorsNotStored: number; fileBytes: number; error: string | null;
}
export interface ApiToken { id: string; name: string; scopes: string[]; createdAt: string; createdBy: string; lastUsedAt: string | null; revokedAt: string | null; token?: string }
export interface LossyChange { total: number; values: { recordId: string; name: string; value: string; reason: string }[] }
export interface ImportError { row: number; column: string | null; reason: string }

/** An API refusal, as the API's problem+json says it: a stable code, words for people, per-field errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: Record<string, string[]> = {},
    readonly details: unknown = null,
  ) {
    super(message);
  }

  /** The record or field changed since it was read (412): the page offers a reload. */
  get isStale(): boolean {
    return this.status === 412;
  }
}

export async function toApiError(response: Response): Promise<ApiError> {
  let body: { code?: string; detail?: string; title?: string; errors?: Record<string, string[]>; details?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not problem+json: keep the status line
  }
  return new ApiError(response.status, body.code ?? `http_${response.status}`, body.detail ?? body.title ?? `The app answered ${response.status}.`, body.errors ?? {}, body.details ?? null);
}

/** The app's API, every call with a fresh context token. */
export class Api {
  constructor(private readonly bridge: Pick<Bridge, 'getToken'>, private readonly fetchImpl: typeof fetch = (...a) => fetch(...a)) {}

  async send<T>(method: string, path: string, body?: unknown, options: { ifMatch?: number; contentType?: string; raw?: boolean } = {}): Promise<T> {
    const headers: Record<string, string> = { Authorization: `JWT ${await this.bridge.getToken()}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
    if (options.ifMatch !== undefined) headers['If-Match'] = `W/"${options.ifMatch}"`;
    const response = await this.fetchImpl(`/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' || body instanceof Blob ? body : JSON.stringify(body),
    });
    if (!response.ok) throw await toApiError(response);
    if (options.raw) return (await response.blob()) as T;
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  get = <T,>(path: string) => this.send<T>('GET', path);

  fields = (entity?: Entity, includeArchived = false) =>
    this.get<FieldView[]>(`/fields?${new URLSearchParams({ ...(entity ? { entity } : {}), ...(includeArchived ? { includeArchived: 'true' } : {}) })}`);
  issuePanel = (reporter: string, participants: string[]) =>
    this.get<IssuePanel>(`/issue-panel?${new URLSearchParams({ reporter, ...(participants.length ? { participants: participants.join(',') } : {}) })}`);
  portalMe = () => this.get<PortalMe>('/portal/me');
  list = (entity: Entity, q: string, cursor?: string | null, includeRemoved = false) =>
    this.get<Page<RecordView>>(`/${plural(entity)}?${new URLSearchParams({ ...(q ? { q } : {}), ...(cursor ? { cursor } : {}), ...(includeRemoved ? { includeRemoved: 'true' } : {}), limit: '50' })}`);
  search = (entity: Entity, q: string, filters: SearchFilter[], cursor?: string | null) =>
    this.send<SearchPage>('POST', `/search/${plural(entity)}`, { q: q || null, filters, cursor: cursor ?? null, limit: 50 });
  record = (entity: Entity, id: string) => this.get<RecordView>(`/${plural(entity)}/${id}`);
  setValues = (record: RecordView, values: Record<string, Value>, portal = false) =>
    this.send<RecordView>('PATCH', `${portal ? '/portal' : ''}/${plural(record.entity)}/${record.id}/values`, { values }, { ifMatch: record.version });
  history = (entity: Entity, id: string) => this.get<{ entries: HistoryEntry[]; nextBefore: number | null }>(`/${plural(entity)}/${id}/history`);
  restore = (entryId: number) => this.send<RecordView>('POST', `/history/${entryId}/restore`);
  createField = (field: Partial<Omit<FieldView, 'options'>> & { options?: string[] }) => this.send<FieldView>('POST', '/admin/fields', field);
  updateField = (field: FieldView, change: Partial<Pick<FieldView, 'label' | 'description' | 'required' | 'visibility' | 'archived' | 'min' | 'max' | 'decimals' | 'jqlSearchable'>>) =>
    this.send<FieldView>('PATCH', `/admin/fields/${field.id}`, change, { ifMatch: field.version });
  addOption = (field: FieldView, label: string) => this.send<FieldView>('POST', `/admin/fields/${field.id}/options`, { label }, { ifMatch: field.version });
  updateOption = (field: FieldView, optionId: string, change: { label?: string; retired?: boolean }) =>
    this.send<FieldView>('PATCH', `/admin/fields/${field.id}/options/${optionId}`, change, { ifMatch: field.version });
  changeType = (field: FieldView, type: FieldType) => this.send<FieldView>('POST', `/admin/fields/${field.id}/type`, { type }, { ifMatch: field.version });
  apiTokens = () => this.get<ApiToken[]>('/admin/api-tokens');
  createApiToken = (name: string, scopes: string[]) => this.send<ApiToken>('POST', '/admin/api-tokens', { name, scopes });
  revokeApiToken = (id: string) => this.send<void>('DELETE', `/admin/api-tokens/${id}`);
  bulkSetValues = (entity: Entity, recordIds: string[], values: Record<string, Value>) => this.send<{ updated: number }>('POST', '/bulk/values', { entity, recordIds, values });
  reorderFields = (entity: Entity, fieldIds: string[]) => this.send<FieldView[]>('PUT', '/admin/fields/order', { entity, fieldIds });
  startImport = (entity: Entity, csv: Blob | string) => this.send<ImportJob>('POST', `/imports?entity=${entity}`, csv, { contentType: 'text/csv; charset=utf-8' });
  importJob = (id: string) => this.get<ImportJob>(`/imports/${id}`);
  importErrors = (id: string) => this.get<{ values: ImportError[] } | ImportError[]>(`/imports/${id}/errors`);
  exportCsv = (entity: Entity) => this.send<Blob>('GET', `/${plural(entity)}/export.csv`, undefined, { raw: true });
  exportAll = () => this.send<Blob>('GET', '/admin/export', undefined, { raw: true });
  requestDeletion = () => this.send<DeletionRequested>('POST', '/admin/data-deletion');
  confirmDeletion = (confirmationToken: string, confirmationPhrase: string) =>
    this.send<Deletion>('POST', '/admin/data-deletion/confirm', { confirmationToken, confirmationPhrase });
  deletion = (id: string) => this.get<Deletion>(`/admin/data-deletion/${id}`);
  views = (entity: Entity) => this.get<SavedView[]>(`/views?entity=${entity}`);
  saveView = (entity: Entity, name: string, shared: boolean, definition: ViewDefinition) => this.send<SavedView>('POST', '/views', { entity, name, shared, definition });
  updateView = (view: SavedView, change: { name: string; shared: boolean; definition: ViewDefinition }) => this.send<SavedView>('PUT', `/views/${view.id}`, change);
  deleteView = (view: SavedView) => this.send<void>('DELETE', `/views/${view.id}`);
  columns = () => this.get<{ organization: string[] | null; customer: string[] | null }>('/me/columns');
  setColumns = (entity: Entity, columns: string[]) => this.send<{ columns: string[] }>('PUT', `/me/columns/${plural(entity)}`, { columns });
  /** Customers of one organization (the directory search's membership filter), by name. */
  members = (organizationId: string, cursor?: string | null) =>
    this.send<SearchPage>('POST', '/search/customers', { organizationId, cursor: cursor ?? null, limit: 50 });
  addMember = (organizationId: string, customerId: string) => this.send<MembershipResult>('PUT', `/organizations/${organizationId}/members/${customerId}`);
  removeMember = (organizationId: string, customerId: string) => this.send<MembershipResult>('DELETE', `/organizations/${organizationId}/members/${customerId}`);
  bulkMemberships = (add: MembershipPair[], remove: MembershipPair[]) =>
    this.send<{ added: number; removed: number; unchanged: number; results: MembershipResult[] }>('POST', '/bulk/memberships', { add, remove });
  writeBacks = (state?: WriteBackState) => this.get<Page<WriteBack>>(`/admin/writeback?${new URLSearchParams({ ...(state ? { state } : {}), limit: '100' })}`);
  retryWriteBacks = (changeIds?: string[]) => this.send<{ retried: number }>('POST', '/admin/writeback/retry', changeIds ? { changeIds } : {});
  emailRules = () => this.get<EmailRule[]>('/admin/email-rules');
  createEmailRule = (domain: string, organizationId: string) => this.send<EmailRule>('POST', '/admin/email-rules', { domain, organizationId });
  deleteEmailRule = (id: string) => this.send<void>('DELETE', `/admin/email-rules/${id}`);
  emailRulesDryRun = () => this.get<EmailRulesDryRun>('/admin/email-rules/dry-run');
  applyEmailRules = () => this.send<{ added: number }>('POST', '/admin/email-rules/apply');
  audit = (action: string, before?: number | null) =>
    this.get<{ entries: HistoryEntry[]; nextBefore: number | null }>(`/admin/audit?${new URLSearchParams({ ...(action ? { action } : {}), ...(before ? { before: String(before) } : {}), limit: '50' })}`);
  startReindex = () => this.send<Reindex>('POST', '/admin/search/reindex');
  reindex = (id: string) => this.get<Reindex>(`/admin/search/reindex/${id}`);
  syncRuns = () => this.get<SyncRun[]>('/admin/sync');
  startSync = () => this.send<SyncRun>('POST', '/admin/sync');
}

/** A membership edit's outcome; writeBack says how it reaches JSM (null when nothing changed). */
export interface MembershipResult { customerId: string; organizationId: string; operation: 'add' | 'remove'; changed: boolean; writeBack: WriteBack | null }
export interface MembershipPair { customerId: string; organizationId: string }
export type WriteBackState = 'pending' | 'done' | 'failed' | 'not-in-jsm' | 'superseded' | 'from-jsm';
/** One membership change and its write-back to JSM (see README, "Memberships and write-back"). */
export interface WriteBack {
  id: string; operation: 'add' | 'remove'; state: WriteBackState; attempts: number; reason: string | null;
  customerId: string; accountId: string | null; customerName: string | null;
  organizationId: string; organizationJsmId: string | null; organizationName: string | null;
  ruleId: string | null; actor: string | null; createdAt: string; updatedAt: string; completedAt: string | null;
}
/** An email-domain rule: customers whose email is in the domain (or, wildcard, any subdomain) join the organization. */
export interface EmailRule { id: string; domain: string; wildcard: boolean; organizationId: string; organizationName: string | null; createdAt: string; updatedAt: string }
export interface EmailRulesDryRun {
  total: number; truncated: boolean;
  additions: { customerId: string; accountId: string; customerName: string; email: string; organizationId: string; organizationName: string; ruleId: string; domain: string }[];
}

/** A rebuild of the site's search index from PostgreSQL, and how far it got. */
export interface Reindex {
  id: string; status: 'queued' | 'running' | 'succeeded' | 'failed'; total: number; done: number; ratePerSecond: number; etaSeconds: number | null;
  createdAt: string; startedAt: string | null; finishedAt: string | null; error: string | null;
}

/** A directory sync from JSM: its state, phase and counts (see README, "JSM directory sync"). */
export interface SyncRun {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped';
  phase: string;
  trigger: string;
  fetched: number;
  total: number | null;
  done: number;
  ratePerSecond: number;
  etaSeconds: number | null;
  created: number;
  updated: number;
  removed: number;
  restored: number;
  errors: number;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** Step one of deleting a site's data: what the admin must type back, and the one-time token that goes with it. */
export interface DeletionRequested {
  id: string;
  confirmationToken: string;
  confirmationPhrase: string;
  expiresAt: string;
}

/** A deletion's progress: its state (Requested, Running, Done, Cancelled) and rows deleted per table so far. */
export interface Deletion {
  id: string;
  state: string;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  rowCounts: Record<string, number>;
}

export const plural = (entity: Entity) => (entity === 'organization' ? 'organizations' : 'customers');
