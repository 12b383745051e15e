using System.Text.Json.Nodes;
using Bogus;

namespace JiraSimulator.Demo;

/// <summary>
/// Realistic demo content for a site, made with Bogus from a seed (the same seed gives the same data):
/// field definitions of every type for organizations and customers, organizations, customers with memberships,
/// and values. Used by the run command's demo site, tests and benchmarks.
/// </summary>
public sealed class DemoData
{
    public sealed record Field(string Entity, string Key, string Label, string Type, string Visibility, bool Required = false, IReadOnlyList<string>? Options = null, decimal? Min = null, decimal? Max = null, int? Decimals = null);

    public sealed record Organization(string JsmId, string Name, JsonObject Values);

    public sealed record Customer(string AccountId, string Name, string Email, IReadOnlyList<string> OrganizationJsmIds, JsonObject Values);

    public required IReadOnlyList<Field> Fields { get; init; }

    public required IReadOnlyList<Organization> Organizations { get; init; }

    public required IReadOnlyList<Customer> Customers { get; init; }

    public static readonly IReadOnlyList<Field> StandardFields =
    [
        new("organization", "account_tier", "Account tier", "select", "customers-view", Options: ["Enterprise", "Business", "Starter"]),
        new("organization", "industry", "Industry", "text", "agents"),
        new("organization", "annual_revenue", "Annual revenue (kEUR)", "number", "agents", Min: 0, Decimals: 0),
        new("organization", "renewal_date", "Renewal date", "date", "customers-view"),
        new("organization", "products", "Products", "multi-select", "customers-view", Options: ["Cloud", "Data Center", "Mobile", "API"]),
        new("organization", "account_manager", "Account manager", "user", "agents"),
        new("organization", "website", "Website", "url", "customers-edit"),
        new("organization", "support_notes", "Support notes", "paragraph", "agents"),
        new("organization", "strategic", "Strategic account", "checkbox", "agents"),
        new("customer", "job_title", "Job title", "text", "customers-edit"),
        new("customer", "phone", "Phone", "phone", "customers-edit"),
        new("customer", "billing_email", "Billing email", "email", "customers-edit"),
        new("customer", "language", "Preferred language", "select", "customers-edit", Options: ["English", "German", "French", "Spanish", "Japanese"]),
        new("customer", "vip", "VIP", "checkbox", "agents"),
        new("customer", "customer_since", "Customer since", "date", "customers-view"),
        new("customer", "satisfaction", "Satisfaction score", "number", "agents", Min: 0, Max: 10, Decimals: 1),
    ];

    public static DemoData Generate(int organizations, int customers, int seed = 20261122)
    {
        Randomizer.Seed = new Random(seed);
        var faker = new Faker("en");
        var orgs = Enumerable.Range(1, organizations).Select(i =>
        {
            var name = faker.Company.CompanyName();
            return new Organization((i + 100).ToString(System.Globalization.CultureInfo.InvariantCulture), name, new JsonObject
            {
                ["account_tier"] = faker.PickRandom("Enterprise", "Business", "Starter"),
                ["industry"] = faker.Commerce.Department(),
                ["annual_revenue"] = faker.Random.Int(50, 500_000),
                ["renewal_date"] = faker.Date.Future(2).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                ["products"] = new JsonArray(faker.PickRandom(new[] { "Cloud", "Data Center", "Mobile", "API" }, faker.Random.Int(1, 3)).Select(p => (JsonNode)JsonValue.Create(p)!).ToArray()),
                ["account_manager"] = "557058:" + faker.Random.Guid(),
                ["website"] = "https://www." + faker.Internet.DomainWord() + ".example",
                ["support_notes"] = faker.Lorem.Paragraphs(2),
                ["strategic"] = faker.Random.Bool(0.2f),
            });
        }).ToList();
        var people = Enumerable.Range(1, customers).Select(i =>
        {
            var first = faker.Name.FirstName();
            var last = faker.Name.LastName();
            var memberOf = orgs.Count == 0 ? [] : faker.PickRandom(orgs, faker.Random.Int(1, Math.Min(2, orgs.Count))).Select(o => o.JsmId).ToList();
            return new Customer($"557058:demo-customer-{i:0000}", $"{first} {last}", faker.Internet.Email(first, last, "example.com"), memberOf, new JsonObject
            {
                ["job_title"] = faker.Name.JobTitle(),
                ["phone"] = faker.Phone.PhoneNumber("+1 ###-###-####"),
                ["billing_email"] = faker.Internet.Email(first, last, "billing.example.com"),
                ["language"] = faker.PickRandom("English", "German", "French", "Spanish", "Japanese"),
                ["vip"] = faker.Random.Bool(0.1f),
                ["customer_since"] = faker.Date.Past(8).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                ["satisfaction"] = Math.Round(faker.Random.Decimal(0, 10), 1),
            });
        }).ToList();
        return new DemoData { Fields = StandardFields, Organizations = orgs, Customers = people };
    }
}
