import Heading from '@atlaskit/heading';
import SectionMessage from '@atlaskit/section-message';
import { token } from '@atlaskit/tokens';
import { lazy, Suspense, useState } from 'react';
import type { FieldView, RecordView } from '../api';
import { Empty, ErrorMessage, Loading, useLoad } from '../components/common';
import { FieldList } from '../components/FieldList';
import { customerEditable, customerVisible } from '../forms';
import type { PageContext } from '../shell';

const RecordForm = lazy(() => import('../components/RecordForm'));

/**
 * The customer's portal panel (profile and request view): their own fields and their organizations' fields, only
 * those visible to customers (the API sends no others); the ones customers may edit are a form.
 */
export function Portal({ api }: PageContext) {
  const me = useLoad(() => api.portalMe(), []);
  if (me.loading) return <Loading label="Loading your details" />;
  if (me.error || !me.data) return <ErrorMessage error={me.error} onReload={me.reload} />;
  const data = me.data;
  const replace = (r: RecordView) =>
    me.setData({ ...data, customer: data.customer?.id === r.id ? r : data.customer, organizations: data.organizations.map((o) => (o.id === r.id ? r : o)) });
  return (
    <div>
      {!data.customer && data.organizations.length === 0 && <Empty>There are no details to show for you yet.</Empty>}
      {data.customer && customerVisible(data.customerFields).length > 0 && (
        <PortalRecord title="Your details" record={data.customer} fields={data.customerFields} api={api} onSaved={replace} onReload={me.reload} />
      )}
      {data.organizations.map((o) => (
        <PortalRecord key={o.id} title={o.name} record={o} fields={data.organizationFields} api={api} onSaved={replace} onReload={me.reload} />
      ))}
    </div>
  );
}

function PortalRecord({ title, record, fields, api, onSaved, onReload }: {
  title: string; record: RecordView; fields: FieldView[]; api: PageContext['api']; onSaved: (r: RecordView) => void; onReload: () => void;
}) {
  const visible = customerVisible(fields);
  const editable = customerEditable(fields);
  const readOnly = visible.filter((f) => !editable.includes(f));
  const [saved, setSaved] = useState(false);
  if (visible.length === 0) return null;
  return (
    <section aria-label={title} style={{ marginBottom: 16, paddingBottom: 8, borderBottom: `1px solid ${token('color.border', '#091E4224')}` }}>
      <Heading size="small" as="h2">{title}</Heading>
      <div style={{ marginTop: 8 }}>
        {readOnly.length > 0 && <FieldList fields={readOnly} values={record.values} testId="read-only-fields" />}
        {editable.length > 0 && (
          <div style={{ marginTop: 12 }}>
            {saved && <div role="status"><SectionMessage appearance="success"><p>Saved.</p></SectionMessage></div>}
            <Suspense fallback={<Loading label="Loading form" />}>
              <RecordForm
                key={record.version}
                title={`Edit ${title}`}
                record={record}
                fields={editable}
                save={(r, values) => api.setValues(r, values, true)}
                onSaved={(r) => {
                  setSaved(true);
                  onSaved(r);
                }}
                onReload={onReload}
              />
            </Suspense>
          </div>
        )}
      </div>
    </section>
  );
}
