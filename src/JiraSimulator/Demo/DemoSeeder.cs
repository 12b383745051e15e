using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace JiraSimulator.Demo;

/// <summary>Loads <see cref="DemoData"/> into the app through its public API, as a site admin would (fields) and an agent would (records).</summary>
public static class DemoSeeder
{
    public const string AdminAccountId = "557058:demo-admin";
    public const string AgentAccountId = "557058:simulated-agent";

    public sealed record Result(int Fields, int Organizations, int Customers, string SampleReporter);

    public static async Task<Result> SeedAsync(HttpClient app, SimulatedSite site, DemoData data, CancellationToken cancellationToken = default)
    {
        site.AddUser(AdminAccountId, SiteRole.Admin, "Demo Admin");
        site.AddUser(AgentAccountId, SiteRole.Agent, "Demo Agent");
        foreach (var customer in data.Customers)
        {
            site.AddUser(customer.AccountId, SiteRole.Customer, customer.Name, customer.Email);
        }

        var fields = 0;
        foreach (var field in data.Fields)
        {
            using var response = await SendAsync(app, site, AdminAccountId, HttpMethod.Post, "api/admin/fields", new
            {
                entity = field.Entity,
                key = field.Key,
                label = field.Label,
                type = field.Type,
                visibility = field.Visibility,
                required = field.Required,
                options = field.Options,
                min = field.Min,
                max = field.Max,
                decimals = field.Decimals,
            }, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                fields++;
            }
            else if (response.StatusCode != System.Net.HttpStatusCode.Conflict) // already seeded
            {
                throw new InvalidOperationException($"Creating field {field.Key} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
        }

        var orgIds = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var org in data.Organizations)
        {
            using var response = await SendAsync(app, site, AgentAccountId, HttpMethod.Post, "api/organizations", new { jsmId = org.JsmId, name = org.Name, values = org.Values }, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                orgIds[org.JsmId] = (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!["id"]!.GetValue<string>();
            }
        }

        var customers = 0;
        foreach (var customer in data.Customers)
        {
            using var response = await SendAsync(app, site, AgentAccountId, HttpMethod.Post, "api/customers", new
            {
                accountId = customer.AccountId,
                name = customer.Name,
                email = customer.Email,
                organizationIds = customer.OrganizationJsmIds.Where(orgIds.ContainsKey).Select(j => orgIds[j]).ToArray(),
                values = customer.Values,
            }, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                customers++;
            }
        }

        return new Result(fields, orgIds.Count, customers, data.Customers.Count > 0 ? data.Customers[0].AccountId : string.Empty);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient app, SimulatedSite site, string accountId, HttpMethod method, string path, object body, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("JWT", SiteTokens.Context(site, accountId));
        return app.SendAsync(request, cancellationToken);
    }
}
