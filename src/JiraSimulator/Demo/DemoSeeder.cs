using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace JiraSimulator.Demo;

/// <summary>Loads <see cref="DemoData"/> into a simulated site and the app as a real site would get there: fields created by a site admin through the API, the directory (organizations, customers, memberships) put in JSM and brought over by a directory sync, values set by an agent.</summary>
public static class DemoSeeder
{
    public const string AdminAccountId = "557058:demo-admin";
    public const string AgentAccountId = "557058:simulated-agent";

    /// <param name="Fields">Fields created (0 when they already existed).</param>
    /// <param name="Organizations">Organizations in the app after the sync.</param>
    /// <param name="Customers">Customers in the app after the sync.</param>
    /// <param name="Synced">Records the directory sync created.</param>
    /// <param name="ValuesWritten">Records whose values were set (0 when they already held them).</param>
    /// <param name="SampleReporter">A customer to open the issue panel for.</param>
    public sealed record Result(int Fields, int Organizations, int Customers, int Synced, int ValuesWritten, string SampleReporter);

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

        // The directory lives in JSM: organizations, customers and memberships go into the simulated site, and the
        // app gets them as it does from a real site, through a directory sync. Only the values are the app's own.
        var jsmIds = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var org in data.Organizations)
        {
            var existing = site.Directory.Organizations.FirstOrDefault(o => o.Name == org.Name);
            jsmIds[org.JsmId] = (existing ?? site.Directory.AddOrganization(org.Name)).Id;
        }

        foreach (var customer in data.Customers)
        {
            site.Directory.AddCustomer(customer.AccountId, customer.Name, customer.Email);
            foreach (var org in customer.OrganizationJsmIds)
            {
                site.Directory.AddMember(jsmIds[org], customer.AccountId);
            }
        }

        var synced = await SyncAsync(app, site, cancellationToken);

        var labels = await OptionLabelsAsync(app, site, cancellationToken);
        var organizations = await RecordIdsAsync(app, site, "api/organizations", cancellationToken);
        var customers = await RecordIdsAsync(app, site, "api/customers", cancellationToken);
        var written = 0;
        foreach (var org in data.Organizations)
        {
            if (organizations.TryGetValue(jsmIds[org.JsmId], out var id) && await SetValuesAsync(app, site, "api/organizations/" + id, org.Values, labels, cancellationToken))
            {
                written++;
            }
        }

        foreach (var customer in data.Customers)
        {
            if (customers.TryGetValue(customer.AccountId, out var id) && await SetValuesAsync(app, site, "api/customers/" + id, customer.Values, labels, cancellationToken))
            {
                written++;
            }
        }

        return new Result(fields, organizations.Count, customers.Count, synced, written, data.Customers.Count > 0 ? data.Customers[0].AccountId : string.Empty);
    }

    /// <summary>
    /// Runs a directory sync as the site admin and waits for it; returns the records it created. A sync already under
    /// way (the install's, which read JSM before the directory was filled) is waited out first, so ours reads it all.
    /// </summary>
    private static async Task<int> SyncAsync(HttpClient app, SimulatedSite site, CancellationToken cancellationToken)
    {
        using (var list = await SendAsync(app, site, AdminAccountId, HttpMethod.Get, "api/admin/sync", null, cancellationToken))
        {
            foreach (var run in (await ReadAsync(list, "Listing directory syncs", cancellationToken)).AsArray())
            {
                await WaitAsync(app, site, run!.AsObject(), cancellationToken);
            }
        }

        for (var attempt = 1; ; attempt++)
        {
            using var start = await SendAsync(app, site, AdminAccountId, HttpMethod.Post, "api/admin/sync", null, cancellationToken);
            var done = await WaitAsync(app, site, (await ReadAsync(start, "Starting the directory sync", cancellationToken)).AsObject(), cancellationToken);
            if (done["status"]!.GetValue<string>() != "skipped" || attempt == 3)
            {
                return done["status"]!.GetValue<string>() == "succeeded"
                    ? done["created"]!.GetValue<int>()
                    : throw new InvalidOperationException($"The directory sync ended {done["status"]}: {done["error"]}");
            }
        }
    }

    private static async Task<JsonObject> WaitAsync(HttpClient app, SimulatedSite site, JsonObject run, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(5);
        while (run["status"]!.GetValue<string>() is "queued" or "running")
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new InvalidOperationException("The directory sync did not finish in 5 minutes; is the app's worker running?");
            }

            await Task.Delay(200, cancellationToken);
            using var poll = await SendAsync(app, site, AdminAccountId, HttpMethod.Get, "api/admin/sync/" + run["id"]!.GetValue<string>(), null, cancellationToken);
            run = (await ReadAsync(poll, "Reading the directory sync", cancellationToken)).AsObject();
        }

        return run["status"]!.GetValue<string>() is "succeeded" or "skipped" // skipped: another run of the site held it; ours starts again
            ? run
            : throw new InvalidOperationException($"The directory sync ended {run["status"]}: {run["error"]}");
    }

    /// <summary>The app's ids of every record of one kind, by JSM id (organizations) or accountId (customers).</summary>
    private static async Task<Dictionary<string, string>> RecordIdsAsync(HttpClient app, SimulatedSite site, string path, CancellationToken cancellationToken)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        string? cursor = null;
        do
        {
            using var response = await SendAsync(app, site, AgentAccountId, HttpMethod.Get, path + "?limit=100" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor)), null, cancellationToken);
            var page = await ReadAsync(response, "Listing " + path, cancellationToken);
            foreach (var record in page["values"]!.AsArray())
            {
                ids[record!["externalId"]!.GetValue<string>()] = record["id"]!.GetValue<string>();
            }

            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        return ids;
    }

    /// <summary>Sets a record's values as an agent would (read for the ETag, then PATCH with If-Match); false when they were already those.</summary>
    private static async Task<bool> SetValuesAsync(
        HttpClient app, SimulatedSite site, string path, JsonObject values, Dictionary<string, string> labels, CancellationToken cancellationToken)
    {
        using var read = await SendAsync(app, site, AgentAccountId, HttpMethod.Get, path, null, cancellationToken);
        var record = await ReadAsync(read, "Reading " + path, cancellationToken);
        if (values.All(v => JsonNode.DeepEquals(v.Value, AsLabels(record["values"]?[v.Key], labels))))
        {
            return false;
        }


        using var request = new HttpRequestMessage(HttpMethod.Patch, path + "/values") { Content = JsonContent.Create(new { values }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("JWT", SiteTokens.Context(site, AgentAccountId));
        request.Headers.IfMatch.Add(read.Headers.ETag!);
        using var response = await app.SendAsync(request, cancellationToken);
        await ReadAsync(response, "Setting the values of " + path, cancellationToken);
        return true;
    }

    /// <summary>Option labels by option id: the API answers select values with ids, the demo data holds labels.</summary>
    private static async Task<Dictionary<string, string>> OptionLabelsAsync(HttpClient app, SimulatedSite site, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(app, site, AgentAccountId, HttpMethod.Get, "api/fields", null, cancellationToken);
        return (await ReadAsync(response, "Listing fields", cancellationToken)).AsArray()
            .SelectMany(f => f!["options"]?.AsArray() ?? [])
            .ToDictionary(o => o!["id"]!.GetValue<string>(), o => o!["label"]!.GetValue<string>(), StringComparer.Ordinal);
    }

    private static JsonNode? AsLabels(JsonNode? value, Dictionary<string, string> labels) => value switch
    {
        JsonArray items => new JsonArray([.. items.Select(i => AsLabels(i, labels))]),
        JsonValue one when one.TryGetValue<string>(out var id) && labels.TryGetValue(id, out var label) => JsonValue.Create(label),
        _ => value?.DeepClone(),
    };

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken) =>
        response.IsSuccessStatusCode
            ? (await response.Content.ReadFromJsonAsync<JsonNode>(cancellationToken))!
            : throw new InvalidOperationException($"{what} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");

    private static Task<HttpResponseMessage> SendAsync(HttpClient app, SimulatedSite site, string accountId, HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("JWT", SiteTokens.Context(site, accountId));
        return app.SendAsync(request, cancellationToken);
    }
}
