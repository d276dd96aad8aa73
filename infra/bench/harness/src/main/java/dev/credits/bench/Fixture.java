package dev.credits.bench;

import dev.credits.core.domain.Account;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.AccountStatus;
import dev.credits.core.domain.ChargeOutcome;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.store.CreditsStore;
import dev.credits.core.store.StoreConfig;
import dev.credits.local.LocalDynamo;
import dev.credits.local.Template;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** The DynamoDB stand-in (moto, the local runner's), with the template's tables, and account seeding. */
final class Fixture implements AutoCloseable {
    static final String ACCOUNTS = "AccountsTable";
    static final String LEDGER = "LedgerTable";
    static final long MICROS = 1_000_000L;

    final LocalDynamo dynamo;
    final DynamoDbClient client;
    final StoreConfig config;
    final CreditsStore store;

    Fixture(Path template) {
        this.dynamo = LocalDynamo.start();
        this.client = dynamo.client();
        dynamo.createTables(Template.read(template), client);
        this.config = new StoreConfig(ACCOUNTS, LEDGER, "us-east-1", dynamo.endpoint());
        this.store = new CreditsStore(client, config, Clock.systemUTC());
    }

    String endpoint() { return dynamo.endpoint(); }

    /** Creates an active account (hard limit 0) and grants it {@code credits} through the store. */
    void account(String id, long credits, Long softLimitCredits) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Account a = new Account(new AccountId(id), AccountStatus.ACTIVE, 0, 0, 0,
                softLimitCredits == null ? null : softLimitCredits * MICROS, null, "bench", now, now, null);
        store.create(a);
        if (credits > 0) grant(id, credits * MICROS, "seed");
    }

    ChargeOutcome grant(String id, long micros, String grantId) {
        return store.post(new LedgerEntry(new AccountId(id), "grant#" + grantId, EntryType.GRANT, micros,
                Instant.now().truncatedTo(ChronoUnit.MILLIS), null, null, null, null, null, null, null, null, null,
                "benchmark", "h-" + grantId));
    }

    @Override
    public void close() {
        client.close();
        dynamo.close();
    }
}
