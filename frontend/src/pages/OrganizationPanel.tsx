import { ErrorMessage, Empty, Loading, Unlicensed, useLoad } from '../components/common';
import type { PageContext } from '../shell';
import { RecordSection } from './IssueView';

/** The agent's JSM organization panel: that organization's fields, editable. Members wait for the sync API. */
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
    </>
  );
}
