using System.Text.Json.Nodes;
using ConnectApp.Fields;
using ConnectApp.Jira;
using ConnectApp.Persistence;

namespace ConnectApp.Jql;

/// <summary>
/// Registers the tenant's JQL aliases on its site (docs/adr/0014): the descriptor is the same for every site, so the
/// per-tenant <c>jiraEntityProperties</c> module is a Connect dynamic module (<c>/rest/atlassian-connect/1/app/module/dynamic</c>),
/// replaced (DELETE by key, then POST) when the searchable fields changed, removed when none is left. When it changed,
/// every customer's issues are queued to be stamped again.
/// </summary>
internal sealed class JqlAliases(AppDbContext db, JsmClient jsm, IssueStamper stamper, ILogger<JqlAliases> logger)
{
    /// <summary>True when the site's module changed.</summary>
    public async Task<bool> RegisterAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        if (await stamper.FindTenantAsync(tenantId, cancellationToken) is not { } tenant)
        {
            return false;
        }

        var (organizationFields, customerFields) = await FieldCatalog.LoadBothAsync(db, cancellationToken);
        var module = JqlProperty.Module(customerFields, organizationFields);
        var current = (await jsm.DynamicModulesAsync(tenant, cancellationToken)).FirstOrDefault(m => m?["key"]?.ToString() == JqlProperty.ModuleKey);
        if (JsonNode.DeepEquals(current?["keyConfigurations"], module?["keyConfigurations"]))
        {
            return false;
        }

        if (current is not null)
        {
            await jsm.DeleteDynamicModulesAsync(tenant, [JqlProperty.ModuleKey], cancellationToken);
        }

        if (module is not null)
        {
            await jsm.RegisterDynamicModulesAsync(tenant, new JsonObject { ["jiraEntityProperties"] = new JsonArray(module) }, cancellationToken);
        }

        var queued = await stamper.QueueEveryoneAsync(tenantId, cancellationToken);
        logger.LogInformation("JQL aliases of tenant {TenantId} registered ({Extractions} extraction(s)); {Queued} customer(s) queued for stamping",
            tenantId, module?["keyConfigurations"]?[0]?["extractions"]?.AsArray().Count ?? 0, queued);
        return true;
    }
}
