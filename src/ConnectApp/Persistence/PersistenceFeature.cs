using ConnectApp.Api;
using ConnectApp.Hosting;
using ConnectApp.Problems;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ConnectApp.Persistence;

internal static class PersistenceFeature
{
    public static IServiceCollection AddPersistence(this IServiceCollection services, IConfiguration configuration, ProcessRole role)
    {
        services.AddValidatedOptions<DatabaseOptions, DatabaseOptionsValidator>(o => o.Url = configuration["DATABASE_URL"] is { Length: > 0 } url ? url : DatabaseOptions.LocalDefault);
        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString).Build());
        services.AddScoped<TenantScope>();
        services.AddSingleton<IInterceptor, TenantConnectionInterceptor>();
        services.AddSingleton<TenantChanges>();
        services.AddSingleton<IInterceptor, TenantChangeInterceptor>();
        if (role.RunsWeb())
        {
            services.AddHostedService<TenantChangeListener>(); // elsewhere caches read through (TenantChanges has no stamp)
        }

        // Options built once (singleton): interceptors are stateless singletons and the tenant travels with the context
        // (AppDbContext.Tenant). Built per scope, they were a sixth of the issue panel's CPU (perf, 2026-11-24). Not
        // AddDbContextPool: a pooled context outlives its scope, so its tenant would have to be reset on every lease.
        services.AddDbContext<AppDbContext>(
            (sp, o) => Configure(o, sp.GetRequiredService<NpgsqlDataSource>())
                .AddInterceptors(sp.GetServices<IInterceptor>()), // the tenant setting, and whatever other features add (the outbox)
            contextLifetime: ServiceLifetime.Scoped,
            optionsLifetime: ServiceLifetime.Singleton);
        services.AddSingleton(new ExceptionProblemMapping(PersistenceProblems.FromException));
        // Any endpoint that reads or writes the database (all of the API, and the lifecycle callbacks) may meet an outage.
        services.AddProblemConvention((_, route) => AppRoutes.IsApiOrLifecycle(route), PersistenceProblems.Unavailable);
        services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgresql", tags: [HealthTags.Ready], timeout: TimeSpan.FromSeconds(5));
        return services;
    }

    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, NpgsqlDataSource dataSource) =>
        builder.UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
            .UseSnakeCaseNamingConvention();

    /// <summary>The migrate role: EF migrations, then row-level security on every tenant-owned table.</summary>
    public static async Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        await MigrateAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>(), cancellationToken);
    }

    /// <summary>The same, on a context of one's own (tests migrate before the app, and so its scheduler, starts).</summary>
    public static async Task MigrateAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.MigrateAsync(cancellationToken);
        await RowLevelSecurity.ApplyAsync(db, cancellationToken);
    }
}

/// <summary>Lets <c>dotnet ef</c> build the model without starting the host.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AppDbContext>
{
    public AppDbContext CreateDbContext(string[] args)
    {
        var connectionString = DatabaseUrl.ToConnectionString(Environment.GetEnvironmentVariable("DATABASE_URL") ?? DatabaseOptions.LocalDefault);
        var builder = new DbContextOptionsBuilder<AppDbContext>();
        builder.UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history")).UseSnakeCaseNamingConvention();
        return new AppDbContext(builder.Options, new TenantScope());
    }
}
