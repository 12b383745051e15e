using ConnectApp.Retention;

namespace ConnectApp.Tests;

/// <summary>The purge's table order: a table comes before every table it references, so no delete meets a row still pointing at it.</summary>
public sealed class TenantTablesTests
{
    [Fact]
    public void ChildrenFirst_PutsEveryReferencingTableBeforeItsParent_WhateverTheNames()
    {
        var tables = new[] { "a_records", "b_values", "c_fields", "d_options", "z_memberships" };
        var references = new[]
        {
            ("b_values", "a_records"), ("b_values", "c_fields"), ("d_options", "c_fields"), ("z_memberships", "a_records"),
            ("a_records", "tenants"), // outside the set: ignored
        };

        var ordered = TenantTables.ChildrenFirst(tables, references);

        Assert.Equal(tables.Order(StringComparer.Ordinal), ordered.Order(StringComparer.Ordinal));
        foreach (var (child, parent) in references.Where(r => tables.Contains(r.Item2)))
        {
            Assert.True(ordered.ToList().IndexOf(child) < ordered.ToList().IndexOf(parent), $"{child} before {parent}: {string.Join(", ", ordered)}");
        }
    }

    [Fact]
    public void ChildrenFirst_WithACycle_StillPlacesEveryTableOnce()
    {
        var ordered = TenantTables.ChildrenFirst(["x", "y"], [("x", "y"), ("y", "x")]);
        Assert.Equal(["x", "y"], ordered.Order(StringComparer.Ordinal));
    }
}
