using System.Security.Cryptography;
using ConnectApp.Audit;
using ConnectApp.Fields;
using ConnectApp.Hosting;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Records;
using ConnectApp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ConnectApp.Tests;

/// <summary>
/// The mirror under faults, with real processes: the worker is the app's executable in the <c>worker</c> role, killed
/// with SIGKILL mid-stream; the broker is a private RabbitMQ node (never the shared one) stopped and started mid-stream.
/// Writes go through the app's own RecordWriter (so through the outbox), in this process. After recovery the index must
/// equal PostgreSQL exactly: the same records at the same versions.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class MirrorFaultTests : IAsyncLifetime
{
    private readonly string _secretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private TestDatabase _database = null!;
    private ServiceProvider _services = null!;
    private Guid _tenantId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["DATABASE_URL"] = _database.Url }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddPersistence(configuration, ProcessRole.Worker);
        services.AddOutbox(configuration, ProcessRole.Web);
        services.AddScoped<RecordWriter>().AddScoped<AuditLog>().AddScoped<Csv.ImportWriter>();
        _services = services.BuildServiceProvider();
        await PersistenceFeature.MigrateAsync(_services, CancellationToken.None);

        _tenantId = Guid.NewGuid();
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO tenants (id, client_key, base_url, shared_secret_ciphertext, shared_secret_key_id, enabled, installed_at, updated_at)
            VALUES (@id, @key, 'https://fault.atlassian.net', '\x00', 'k', true, now(), now())
            """, connection);
        insert.Parameters.AddWithValue("id", _tenantId);
        insert.Parameters.AddWithValue("key", "fault-" + _tenantId.ToString("N"));
        await insert.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task WorkerKilledWithSigkillMidStream_AfterRecovery_IndexEqualsPostgreSqlExactly()
    {
        await using var broker = await TestBroker.CreateAsync();
        var worker = WorkerProcess.Start(_database.Url, broker.Url, _secretsKey);
        try
        {
            await StreamAsync(batches: 60, async batch =>
            {
                if (batch == 20)
                {
                    worker.Kill(); // SIGKILL mid-stream: deliveries in flight are unacked, the relay's unconfirmed rows unsent
                }
                else if (batch == 35)
                {
                    worker = WorkerProcess.Start(_database.Url, broker.Url, _secretsKey);
                }

                await Task.CompletedTask;
            });

            await AssertIndexEqualsPostgreSqlAsync();
        }
        finally
        {
            await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task BrokerStoppedAndStartedMidStream_AfterRecovery_IndexEqualsPostgreSqlExactly()
    {
        await using var node = await PrivateRabbitNode.StartAsync();
        await using var worker = WorkerProcess.Start(_database.Url, node.Url, _secretsKey);
        await StreamAsync(batches: 60, async batch =>
        {
            if (batch == 20)
            {
                await node.StopAsync();
            }
            else if (batch == 35)
            {
                await node.StartAgainAsync();
            }
        });

        await AssertIndexEqualsPostgreSqlAsync();
    }

    [Fact]
    public async Task CsvImportInterruptedByWorkerSigkill_Completes_WithEveryRowAccountedForOnce()
    {
        const int rows = 20_000;
        await using var broker = await TestBroker.CreateAsync();
        var csv = new System.Text.StringBuilder("jsmId,name\n");
        for (var i = 0; i < rows; i++)
        {
            csv.Append("imp-").Append(i).Append(",Imported ").Append(i).Append('\n');
        }

        // What the upload endpoint writes, in one transaction: the job, its file, and its outbox message.
        var jobId = Guid.NewGuid();
        await using (var scope = _services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(_tenantId);
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var bytes = System.Text.Encoding.UTF8.GetBytes(csv.ToString());
            db.Set<Csv.ImportJob>().Add(new Csv.ImportJob
            {
                Id = jobId,
                TenantId = _tenantId,
                Entity = RecordEntity.Organization,
                Status = Csv.ImportStatus.Queued,
                CreatedBy = "fault-test",
                FileBytes = bytes.Length,
                CreatedAt = DateTimeOffset.UtcNow,
                UpdatedAt = DateTimeOffset.UtcNow,
            });
            var seq = 0;
            foreach (var chunk in bytes.Chunk(Csv.ImportLimits.ChunkBytes))
            {
                db.Set<Csv.ImportFileChunk>().Add(new Csv.ImportFileChunk { TenantId = _tenantId, JobId = jobId, Seq = seq++, Data = chunk });
            }

            OutboxInterceptor.Add(db, new ImportRequested(_tenantId, jobId));
            await db.SaveChangesAsync();
        }

        var worker = WorkerProcess.Start(_database.Url, broker.Url, _secretsKey);
        try
        {
            var doneAtKill = await WaitForImportAsync(jobId, j => j.Done >= 3000 && j.Done < rows, TimeSpan.FromSeconds(120));
            worker.Kill();
            worker = WorkerProcess.Start(_database.Url, broker.Url, _secretsKey);
            var finished = await WaitForImportAsync(jobId, j => j.Status is "Succeeded" or "Failed", TimeSpan.FromSeconds(180));

            Assert.True(doneAtKill.Done < rows, "the worker was killed mid-import");
            Assert.Equal(("Succeeded", rows, rows, 0), (finished.Status, finished.Total, finished.Done, finished.Failed));
            await using var connection = new NpgsqlConnection(_database.ConnectionString);
            await connection.OpenAsync();
            await using var counts = new NpgsqlCommand(
                $"SELECT set_config('app.tenant_id', '{_tenantId}', false); SELECT (SELECT count(*) FROM records WHERE external_id LIKE 'imp-%'), (SELECT count(*) FROM audit_entries WHERE action = 'record.created')",
                connection);
            await using var reader = await counts.ExecuteReaderAsync();
            await reader.NextResultAsync();
            await reader.ReadAsync();
            Assert.Equal(rows, reader.GetInt64(0)); // every row once
            Assert.Equal(rows, reader.GetInt64(1)); // and created once: no batch applied twice
        }
        finally
        {
            await worker.DisposeAsync();
        }
    }

    private sealed record ImportState(string Status, int Total, int Done, int Failed);

    private async Task<ImportState> WaitForImportAsync(Guid jobId, Func<ImportState, bool> until, TimeSpan timeout)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using (var set = new NpgsqlCommand($"SELECT set_config('app.tenant_id', '{_tenantId}', false)", connection))
        {
            await set.ExecuteNonQueryAsync();
        }

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await using var command = new NpgsqlCommand("SELECT status, coalesce(total_rows, 0), done_rows, failed_rows FROM import_jobs WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", jobId);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            var state = new ImportState(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3));
            if (until(state))
            {
                return state;
            }

            Assert.True(DateTime.UtcNow < deadline, "import state: " + state);
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Import batches of 50 rows: each renames the 40 existing organizations (a new version of each) and adds 10 new
    /// ones, through Csv.ImportWriter, with a pause between batches so faults land mid-stream.
    /// </summary>
    private async Task StreamAsync(int batches, Func<int, Task> between)
    {
        var caller = Api.Caller.ForBackgroundWork(_tenantId, "fault-test");
        var next = 0;
        var existing = new List<string>();
        for (var batch = 0; batch < batches; batch++)
        {
            await between(batch);
            await using var scope = _services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(_tenantId);
            var writer = scope.ServiceProvider.GetRequiredService<Csv.ImportWriter>();
            var rows = existing.TakeLast(40).Select((id, i) => new Csv.ImportWriter.ImportRow(i + 2, id, $"Org {id} v{batch}", false, null, null, [])).ToList();
            for (var i = 0; i < 10; i++, next++)
            {
                var id = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
                rows.Add(new Csv.ImportWriter.ImportRow(rows.Count + 2, id, $"Org {id}", false, null, null, []));
                existing.Add(id);
            }

            var result = await writer.ApplyAsync(caller, RecordEntity.Organization, rows, CancellationToken.None);
            Assert.Empty(result.Errors);
            await Task.Delay(50);
        }
    }

    private async Task AssertIndexEqualsPostgreSqlAsync()
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            await using var pending = new NpgsqlCommand("SELECT count(*) FROM outbox_messages WHERE applied_at IS NULL", connection);
            var left = (long)(await pending.ExecuteScalarAsync())!;
            if (left == 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{left} change(s) still unapplied after recovery");
            await Task.Delay(250);
        }

        await using (var scope = new NpgsqlCommand($"SELECT set_config('app.tenant_id', '{_tenantId}', false)", connection))
        {
            await scope.ExecuteNonQueryAsync();
        }

        async Task<List<string>> ReadAsync(string sql)
        {
            var rows = new List<string>();
            await using var command = new NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add($"{reader.GetGuid(0)}:{reader.GetInt32(1)}:{reader.GetString(2)}");
            }

            return rows;
        }

        var records = await ReadAsync("SELECT id, version, name FROM records ORDER BY id");
        var documents = await ReadAsync($"SELECT record_id, version, name FROM search_documents WHERE tenant_id = '{_tenantId}' ORDER BY record_id"); // no row-level security here (ADR 10)
        Assert.Equal(600, records.Count);
        Assert.Equal(records, documents);
    }
}

/// <summary>Fault tests run one at a time: they start processes and a broker node of their own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection
{
    public const string Name = "faults";
}
