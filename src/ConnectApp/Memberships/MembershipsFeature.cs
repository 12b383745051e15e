using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Records;

namespace ConnectApp.Memberships;

/// <summary>
/// Membership edits made in the app (one, bulk, by email-domain rule), each written back to JSM by the worker from a
/// <c>membership.writeback.v1</c> with a per-change report; the email-domain rules with their dry run.
/// </summary>
internal static class MembershipsFeature
{
    public static IServiceCollection AddMemberships(this IServiceCollection services) =>
        services
            .AddScoped<MembershipEditor>()
            .AddScoped<EmailRules>()
            .AddScoped<IRecordCreationObserver, EmailRulesOnCreate>()
            .AddKeyedScoped<IMessageHandler, WriteBackHandler>(MembershipWriteBackRequested.Type);

    public static IEndpointRouteBuilder MapMembershipsEndpoints(this IEndpointRouteBuilder api)
    {
        MembershipsApi.Map(api);
        EmailRulesApi.Map(api);
        return api;
    }
}
