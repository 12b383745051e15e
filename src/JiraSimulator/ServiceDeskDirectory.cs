using System.Globalization;
using Bogus;

namespace JiraSimulator;

/// <summary>A JSM service desk: its id and the Jira project it serves.</summary>
public sealed record SimulatedServiceDesk(string Id, string ProjectId, string ProjectKey, string ProjectName);

internal enum MemberEditOutcome
{
    Done,
    NoOrganization,
    UnknownAccount,
}

/// <summary>A JSM organization.</summary>
public sealed record SimulatedOrganization(string Id, string Name);

/// <summary>A portal customer as the JSM API lists it (UserDTO: accountId, displayName, emailAddress).</summary>
public sealed record SimulatedCustomer(string AccountId, string DisplayName, string EmailAddress);

/// <summary>
/// A site's JSM directory: service desks, organizations, their members, and each desk's customers, in the order
/// JSM pages them (creation order; <c>start</c> is an offset, so a removal shifts later pages, as on a real site).
/// Tests change it between syncs (add, rename, remove, membership change). Thread-safe; a 100,000-customer site is
/// made in well under a second (<see cref="Generate"/>: names from small Bogus pools by seed, not a Faker per row).
/// </summary>
public sealed class ServiceDeskDirectory
{
    /// <summary>JSM caps <c>limit</c> at 50 on these endpoints, whatever the caller asks for.</summary>
    public const int MaxLimit = 50;

    private readonly Lock _lock = new();

    /// <summary>False: a Jira site without Jira Service Management; the servicedeskapi answers 404.</summary>
    public bool JsmInstalled { get; set; } = true;
    private readonly List<SimulatedServiceDesk> _desks = [new("1", "10000", "SD", "Service desk")];
    private readonly List<SimulatedOrganization> _organizations = [];
    private readonly Dictionary<string, List<string>> _members = new(StringComparer.Ordinal);
    private readonly List<SimulatedCustomer> _customers = [];
    private readonly Dictionary<string, int> _customerIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrderedSet> _deskCustomers = new(StringComparer.Ordinal) { ["1"] = new() };
    private int _nextOrganizationId = 1;

    public IReadOnlyList<SimulatedServiceDesk> ServiceDesks
    {
        get
        {
            lock (_lock)
            {
                return [.. _desks];
            }
        }
    }

    public int OrganizationCount
    {
        get
        {
            lock (_lock)
            {
                return _organizations.Count;
            }
        }
    }

    public int CustomerCount
    {
        get
        {
            lock (_lock)
            {
                return _customers.Count;
            }
        }
    }

    public SimulatedServiceDesk AddServiceDesk(string projectId, string projectKey)
    {
        lock (_lock)
        {
            var desk = new SimulatedServiceDesk((_desks.Count + 1).ToString(CultureInfo.InvariantCulture), projectId, projectKey, "Service desk " + projectKey);
            _desks.Add(desk);
            _deskCustomers[desk.Id] = new();
            return desk;
        }
    }

    public SimulatedOrganization AddOrganization(string name)
    {
        lock (_lock)
        {
            var org = new SimulatedOrganization((_nextOrganizationId++).ToString(CultureInfo.InvariantCulture), name);
            _organizations.Add(org);
            _members[org.Id] = [];
            return org;
        }
    }

    /// <summary>Puts back an organization removed earlier, under its old id (JSM ids are never reused, so this is the same one).</summary>
    public void RestoreOrganization(SimulatedOrganization organization)
    {
        lock (_lock)
        {
            if (_organizations.All(o => o.Id != organization.Id))
            {
                _organizations.Add(organization);
                _members[organization.Id] = [];
            }
        }
    }

    public void RenameOrganization(string id, string name)
    {
        lock (_lock)
        {
            var i = _organizations.FindIndex(o => o.Id == id);
            _organizations[i] = _organizations[i] with { Name = name };
        }
    }

    public void RemoveOrganization(string id)
    {
        lock (_lock)
        {
            _organizations.RemoveAll(o => o.Id == id);
            _members.Remove(id);
        }
    }

    /// <summary>Adds (or replaces) a customer on the first service desk (or <paramref name="deskId"/>).</summary>
    public SimulatedCustomer AddCustomer(string accountId, string displayName, string email, string deskId = "1")
    {
        lock (_lock)
        {
            var customer = new SimulatedCustomer(accountId, displayName, email);
            if (_customerIndex.TryGetValue(accountId, out var i))
            {
                _customers[i] = customer;
            }
            else
            {
                _customerIndex[accountId] = _customers.Count;
                _customers.Add(customer);
            }

            _deskCustomers[deskId].Add(accountId);
            return customer;
        }
    }

    public void RenameCustomer(string accountId, string displayName, string? email = null)
    {
        lock (_lock)
        {
            var i = _customerIndex[accountId];
            _customers[i] = _customers[i] with { DisplayName = displayName, EmailAddress = email ?? _customers[i].EmailAddress };
        }
    }

    /// <summary>Removes a customer from every desk and organization.</summary>
    public void RemoveCustomer(string accountId)
    {
        lock (_lock)
        {
            if (!_customerIndex.Remove(accountId, out var i))
            {
                return;
            }

            _customers.RemoveAt(i);
            for (var j = i; j < _customers.Count; j++)
            {
                _customerIndex[_customers[j].AccountId] = j;
            }

            foreach (var desk in _deskCustomers.Values)
            {
                desk.Remove(accountId);
            }

            foreach (var members in _members.Values)
            {
                members.Remove(accountId);
            }
        }
    }

    public void AddMember(string organizationId, string accountId)
    {
        lock (_lock)
        {
            var members = _members[organizationId];
            if (!members.Contains(accountId))
            {
                members.Add(accountId);
            }
        }
    }

    public void RemoveMember(string organizationId, string accountId)
    {
        lock (_lock)
        {
            _members[organizationId].Remove(accountId);
        }
    }

    /// <summary>
    /// Adds <paramref name="organizations"/> organizations and <paramref name="customers"/> customers (on the first
    /// desk), customer i a member of organization i mod n (and every 7th also of the next one). Deterministic per seed.
    /// </summary>
    public void Generate(int organizations, int customers, int seed = 9)
    {
        var faker = new Faker("en") { Random = new Randomizer(seed) };
        var first = Enumerable.Range(0, 512).Select(_ => faker.Name.FirstName()).ToArray();
        var last = Enumerable.Range(0, 512).Select(_ => faker.Name.LastName()).ToArray();
        var companies = Enumerable.Range(0, Math.Max(organizations, 1)).Select(i => faker.Company.CompanyName() + " " + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        lock (_lock)
        {
            var orgIds = new List<string>(organizations);
            for (var i = 0; i < organizations; i++)
            {
                var org = new SimulatedOrganization((_nextOrganizationId++).ToString(CultureInfo.InvariantCulture), companies[i]);
                _organizations.Add(org);
                _members[org.Id] = [];
                orgIds.Add(org.Id);
            }

            var desk = _deskCustomers["1"];
            for (var i = 0; i < customers; i++)
            {
                var f = first[(i * 7919) & 511];
                var l = last[(i / 512 * 104729 + i) & 511];
                var accountId = string.Create(CultureInfo.InvariantCulture, $"557058:gen{seed}-{i:D7}");
                var customer = new SimulatedCustomer(accountId, f + " " + l, string.Create(CultureInfo.InvariantCulture, $"{f}.{l}.{i}@example.com").ToLowerInvariant());
                if (!_customerIndex.ContainsKey(accountId))
                {
                    _customerIndex[accountId] = _customers.Count;
                    _customers.Add(customer);
                }

                desk.Add(accountId);
                if (orgIds.Count > 0)
                {
                    _members[orgIds[i % orgIds.Count]].Add(accountId);
                    if (i % 7 == 0 && orgIds.Count > 1)
                    {
                        _members[orgIds[(i + 1) % orgIds.Count]].Add(accountId);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Adds or removes members as JSM's membership edit does: all or nothing; an unknown organization or an accountId that
    /// is not a customer of the site changes nothing. Adding a member twice, or removing a non-member, is a no-op.
    /// </summary>
    internal MemberEditOutcome EditMembers(string organizationId, IReadOnlyList<string> accountIds, bool add)
    {
        lock (_lock)
        {
            if (!_members.TryGetValue(organizationId, out var members))
            {
                return MemberEditOutcome.NoOrganization;
            }

            if (accountIds.Any(id => !_customerIndex.ContainsKey(id)))
            {
                return MemberEditOutcome.UnknownAccount;
            }

            foreach (var id in accountIds)
            {
                if (add && !members.Contains(id))
                {
                    members.Add(id);
                }
                else if (!add)
                {
                    members.Remove(id);
                }
            }

            return MemberEditOutcome.Done;
        }
    }

    public IReadOnlyList<string> MembersOf(string organizationId)
    {
        lock (_lock)
        {
            return [.. _members[organizationId]];
        }
    }

    public IReadOnlyList<SimulatedOrganization> Organizations
    {
        get
        {
            lock (_lock)
            {
                return [.. _organizations];
            }
        }
    }

    internal (List<SimulatedServiceDesk> Page, bool Last) DesksPage(int start, int limit)
    {
        lock (_lock)
        {
            return Slice(_desks, start, limit);
        }
    }

    internal (List<SimulatedOrganization> Page, bool Last) OrganizationsPage(int start, int limit)
    {
        lock (_lock)
        {
            return Slice(_organizations, start, limit);
        }
    }

    /// <summary>Null when there is no such organization.</summary>
    internal (List<SimulatedCustomer> Page, bool Last)? MembersPage(string organizationId, int start, int limit)
    {
        lock (_lock)
        {
            if (!_members.TryGetValue(organizationId, out var members))
            {
                return null;
            }

            var (ids, last) = Slice(members, start, limit);
            return (ids.Select(id => _customers[_customerIndex[id]]).ToList(), last);
        }
    }

    /// <summary>A desk's customers in creation order; null when there is no such desk.</summary>
    internal (List<SimulatedCustomer> Page, bool Last)? CustomersPage(string deskId, int start, int limit)
    {
        lock (_lock)
        {
            if (!_deskCustomers.TryGetValue(deskId, out var desk))
            {
                return null;
            }

            var (ids, last) = Slice(desk.Order, start, limit);
            var page = ids.Select(id => _customers[_customerIndex[id]]).ToList();
            return (page, last);
        }
    }

    internal SimulatedCustomer? FindCustomer(string accountId)
    {
        lock (_lock)
        {
            return _customerIndex.TryGetValue(accountId, out var i) ? _customers[i] : null;
        }
    }

    /// <summary>Ids in insertion order with O(1) membership.</summary>
    private sealed class OrderedSet
    {
        private readonly HashSet<string> _set = new(StringComparer.Ordinal);

        public List<string> Order { get; } = [];

        public void Add(string id)
        {
            if (_set.Add(id))
            {
                Order.Add(id);
            }
        }

        public void Remove(string id)
        {
            if (_set.Remove(id))
            {
                Order.Remove(id);
            }
        }
    }

    private static (List<T> Page, bool Last) Slice<T>(List<T> list, int start, int limit)
    {
        var from = Math.Min(start, list.Count);
        var count = Math.Min(limit, list.Count - from);
        return (list.GetRange(from, count), from + count >= list.Count);
    }
}
