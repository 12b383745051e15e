using System.Text.Json.Nodes;
using ConnectApp.Fields;
using ConnectApp.Jira;
using ConnectApp.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Jql;

/// <summary>
/// Registers the tenant's JQL aliases on its site (docs/adr/0014): the descriptor is the same for every site, so the
/// per-tenant <c>jiraEntityProperties</c> module is a Connect dynamic module (<c>/rest/atlassian-connect/1/app/module/dynamic</c>),
/// replaced (DELETE by key, then POST) when the searchable fields changed, removed when none is left. When it changed,
/// every customer's issues are queued to be stamped again.
/// </summary>
internal sealed class JqlAliases(AppDbContext db, JsmClient jsm, IssueStamper stamper, TimeProvider time, ILogger<JqlAliases> logger)
{
    /// <summary>No module: what <see cref="JqlRegistration.ModuleHash"/> says when none is registered.</summary>
    public const string NoModule = "none";

    /// <summary>True when the site's module changed.</summary>
    public async Task<bool> RegisterAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var (organizationFields, customerFields) = await FieldCatalog.LoadBothAsync(db, cancellationToken);
        var wanted = JqlProperty.Module(customerFields, organizationFields);
        var registered = await db.Set<JqlRegistration>().AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        var labels = JqlProperty.Labels(customerFields, organizationFields);
        if ((registered?.ModuleHash ?? NoModule) == (wanted is null ? NoModule : JqlProperty.Hash(wanted)))
        {
            if (registered is null || registered.Labels == labels.ToJsonString())
            {
                return false; // as registered (or nothing searchable, and nothing registered): no Jira call
            }

            // The same aliases, but an option may have been renamed: the customers holding it (or whose organization
            // does) are stamped again; the module itself stays. Options only added change no issue.
            var requeued = await QueueRelabelledAsync(tenantId, registered, labels, cancellationToken);
            await RememberAsync(tenantId, wanted, labels, cancellationToken);
            logger.LogInformation("Option labels of JQL-searchable fields of tenant {TenantId} changed; {Queued} customer(s) queued for stamping", tenantId, requeued);
            return false;
        }

        if (await stamper.FindTenantAsync(tenantId, cancellationToken) is not { } tenant)
        {
            return false;
        }

        // One registration of a tenant at a time (several field changes arrive together).
        await using (await AdvisoryLock.TakeAsync(db.Database, "jql-aliases:" + tenantId, cancellationToken))
        {
            (organizationFields, customerFields) = await FieldCatalog.LoadBothAsync(db, cancellationToken); // under the lock: the latest
            var module = JqlProperty.Module(customerFields, organizationFields);
            labels = JqlProperty.Labels(customerFields, organizationFields);
            var current = (await jsm.DynamicModulesAsync(tenant, cancellationToken)).FirstOrDefault(m => m?["key"]?.ToString() == JqlProperty.ModuleKey);
            if (JsonNode.DeepEquals(current?["keyConfigurations"], module?["keyConfigurations"]))
            {
                await QueueRelabelledAsync(tenantId, registered, labels, cancellationToken); // as above
                await RememberAsync(tenantId, module, labels, cancellationToken);
                return false;
            }

            // Queued first: if the registration below fails, the retry finds the module still different and queues
            // again (a customer whose property did not change costs nothing), so no change of the field set is lost.
            var queued = await stamper.QueueEveryoneAsync(tenantId, cancellationToken);
            if (current is not null)
            {
                await jsm.DeleteDynamicModulesAsync(tenant, [JqlProperty.ModuleKey], cancellationToken);
            }

            if (module is not null)
            {
                await jsm.RegisterDynamicModulesAsync(tenant, new JsonObject { ["jiraEntityProperties"] = new JsonArray(module) }, cancellationToken);
            }

            await RememberAsync(tenantId, module, labels, cancellationToken);
            Log(tenantId, module, queued);
            return true;
        }
    }

    /// <summary>The holders of options whose label changed since <paramref name="registered"/> get a stamp message; how many.</summary>
    private Task<int> QueueRelabelledAsync(Guid tenantId, JqlRegistration? registered, JsonObject labels, CancellationToken cancellationToken) =>
        registered?.Labels is { } before && before != labels.ToJsonString()
            ? stamper.QueueHoldersAsync(tenantId, JqlProperty.Relabelled(JsonNode.Parse(before)!.AsObject(), labels), cancellationToken)
            : Task.FromResult(0);

    private async Task RememberAsync(Guid tenantId, JsonObject? module, JsonObject labels, CancellationToken cancellationToken)
    {
        var hash = module is null ? NoModule : JqlProperty.Hash(module);
        var row = await db.Set<JqlRegistration>().SingleOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            db.Set<JqlRegistration>().Add(new JqlRegistration { TenantId = tenantId, ModuleHash = hash, Labels = labels.ToJsonString(), RegisteredAt = time.GetUtcNow() });
        }
        else
        {
            row.ModuleHash = hash;
            row.Labels = labels.ToJsonString();
            row.RegisteredAt = time.GetUtcNow();
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private void Log(Guid tenantId, JsonObject? module, int queued)
    {
        logger.LogInformation("JQL aliases of tenant {TenantId} registered ({Extractions} extraction(s)); {Queued} customer(s) queued for stamping",
            tenantId, module?["keyConfigurations"]?[0]?["extractions"]?.AsArray().Count ?? 0, queued);
    }
}
