-- The large data set of bench/run.sh --large: :orgs organizations and :customers customers in one tenant, with values
-- of every field type the demo fields have (scripts/run.sh's seed) and 1-3 memberships per customer. Plain SQL as the
-- tenant (row-level security applies); it bypasses the app, so nothing reaches the outbox or the search index. It ends
-- with VACUUM (ANALYZE), as a long-lived table would be: measured while autovacuum was still at work on the fresh
-- rows, the directory list of this site took 0.8 s instead of 7 ms.
-- psql -v tenant=<uuid> -v orgs=100000 -v customers=1000000 -v fields='<json: key -> id>' -v options='<json: key -> [ids]>'
SELECT set_config('app.tenant_id', :'tenant', false);
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE f AS SELECT key, value #>> '{}' AS id FROM jsonb_each(:'fields'::jsonb);
CREATE TEMP TABLE o AS SELECT key, array(SELECT jsonb_array_elements_text(value)) AS ids FROM jsonb_each(:'options'::jsonb);
INSERT INTO records (id, tenant_id, entity, external_id, name, field_values, version, created_at, updated_at)
SELECT gen_random_uuid(), :'tenant', 'Organization', 'large-' || g, 'Large organization ' || lpad(g::text, 6, '0'),
       jsonb_build_object(
         (SELECT id FROM f WHERE key = 'account_tier'), (SELECT ids[1 + g % 3] FROM o WHERE key = 'account_tier'),
         (SELECT id FROM f WHERE key = 'industry'), 'Industry ' || (g % 40),
         (SELECT id FROM f WHERE key = 'annual_revenue'), g % 100000,
         (SELECT id FROM f WHERE key = 'renewal_date'), to_char(date '2027-01-01' + (g % 365), 'YYYY-MM-DD'),
         (SELECT id FROM f WHERE key = 'products'), (SELECT to_jsonb(ids[1:1 + g % 4]) FROM o WHERE key = 'products'),
         (SELECT id FROM f WHERE key = 'account_manager'), '557058:manager-' || (g % 50),
         (SELECT id FROM f WHERE key = 'website'), 'https://org' || g || '.example',
         (SELECT id FROM f WHERE key = 'support_notes'), 'Notes for organization ' || g || E'.\nSecond line.',
         (SELECT id FROM f WHERE key = 'strategic'), g % 5 = 0),
       1, now(), now()
FROM generate_series(1, :orgs) g;
INSERT INTO records (id, tenant_id, entity, external_id, name, email, field_values, version, created_at, updated_at)
SELECT gen_random_uuid(), :'tenant', 'Customer', '557058:large-' || g, 'Large customer ' || lpad(g::text, 7, '0'), 'customer' || g || '@large.example',
       jsonb_build_object(
         (SELECT id FROM f WHERE key = 'job_title'), 'Title ' || (g % 200),
         (SELECT id FROM f WHERE key = 'phone'), '+1 555-' || lpad((g % 10000)::text, 4, '0'),
         (SELECT id FROM f WHERE key = 'billing_email'), 'billing' || g || '@large.example',
         (SELECT id FROM f WHERE key = 'language'), (SELECT ids[1 + g % 5] FROM o WHERE key = 'language'),
         (SELECT id FROM f WHERE key = 'vip'), g % 10 = 0,
         (SELECT id FROM f WHERE key = 'customer_since'), to_char(date '2018-01-01' + (g % 3000), 'YYYY-MM-DD'),
         (SELECT id FROM f WHERE key = 'satisfaction'), (g % 100) / 10.0),
       1, now(), now()
FROM generate_series(1, :customers) g;
-- Customer g belongs to organization g mod orgs, plus a second for every 3rd and a third for every 7th.
CREATE TEMP TABLE org_ids AS SELECT row_number() OVER (ORDER BY external_id) - 1 AS n, id FROM records WHERE entity = 'Organization' AND external_id LIKE 'large-%';
CREATE INDEX ON org_ids (n);
INSERT INTO memberships (tenant_id, customer_id, organization_id)
SELECT DISTINCT :'tenant'::uuid, c.id, org_ids.id
FROM (SELECT id, substring(external_id FROM 14)::bigint AS g FROM records WHERE entity = 'Customer' AND external_id LIKE '557058:large-%') c
CROSS JOIN LATERAL (VALUES (c.g % :orgs), (CASE WHEN c.g % 3 = 0 THEN (c.g * 7) % :orgs END), (CASE WHEN c.g % 7 = 0 THEN (c.g * 13) % :orgs END)) AS pick(n)
JOIN org_ids ON org_ids.n = pick.n;
COMMIT;
VACUUM (ANALYZE) records;
VACUUM (ANALYZE) memberships;
