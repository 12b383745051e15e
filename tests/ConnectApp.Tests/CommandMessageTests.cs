using System.Text;
using ConnectApp.Messaging;
using ConnectApp.Outbox;

namespace ConnectApp.Tests;

/// <summary>The commands that start a tenant's run of work are refused (rejected, never retried) unless whole and for the tenant their header names.</summary>
public sealed class CommandMessageTests
{
    private static readonly Guid Tenant = Guid.NewGuid();

    private static MessageContext Context(Guid? tenant) => new(1, PurgeRequested.Type, tenant, 1, false);

    [Fact]
    public void AWholeCommandForTheHeadersTenant_IsRead()
    {
        var purge = Guid.NewGuid();
        var body = Encoding.UTF8.GetBytes(Contracts.Serialize(new PurgeRequested(Tenant, purge)));
        Assert.True(Commands.TryRead<PurgeRequested>(body, Context(Tenant), m => m.PurgeId, out var message, out _));
        Assert.Equal(purge, message.PurgeId);
    }

    [Theory]
    [InlineData("{ not json", "Unreadable purge.requested.v1")]
    [InlineData("null", "purge.requested.v1 without its id")]
    [InlineData("{\"tenantId\":\"00000000-0000-0000-0000-000000000000\",\"purgeId\":\"00000000-0000-0000-0000-000000000000\"}", "purge.requested.v1 without its id")]
    public void AnUnreadableOrEmptyCommand_IsRejectedWithItsReason(string json, string reason)
    {
        Assert.False(Commands.TryRead<PurgeRequested>(Encoding.UTF8.GetBytes(json), Context(Tenant), m => m.PurgeId, out var message, out var refusal));
        Assert.Null(message);
        Assert.Equal(HandlerOutcome.Reject, refusal.Outcome);
        Assert.StartsWith(reason, refusal.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ACommandNamingAnotherTenantThanItsHeader_IsRejected()
    {
        var body = Encoding.UTF8.GetBytes(Contracts.Serialize(new PurgeRequested(Guid.NewGuid(), Guid.NewGuid())));
        Assert.False(Commands.TryRead<PurgeRequested>(body, Context(Tenant), m => m.PurgeId, out _, out var refusal));
        Assert.Equal(HandlerOutcome.Reject, refusal.Outcome);
    }
}
