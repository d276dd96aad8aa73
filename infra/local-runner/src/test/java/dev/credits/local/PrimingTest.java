package dev.credits.local;

import dev.credits.accounts.AccountsHandler;
import dev.credits.core.pricing.PriceBookLoader;
import dev.credits.core.snap.Priming;
import dev.credits.history.HistoryHandler;
import dev.credits.usage.HoldsHandler;
import dev.credits.usage.UsageHandler;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.Set;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * SnapStart priming runs on every published version, before the snapshot: it must exercise the hot path and write
 * nothing. Every DynamoDB call it makes is recorded, and both tables are counted before and after.
 */
@ContractTest
class PrimingTest {

    private static int count(String table) {
        return runner().dynamo().scan(b -> b.tableName(table).select("COUNT")).count();
    }

    @Test
    void primingReadsButNeverWrites() {
        runner(); // the stack, so the tables exist
        int accountsBefore = count("AccountsTable");
        int ledgerBefore = count("LedgerTable");
        FaultyDynamo recorder = new FaultyDynamo(runner().dynamo());
        new UsageHandler(recorder, storeConfig(), PriceBookLoader.fromClasspath(), Clock.systemUTC()).prime();
        new HoldsHandler(recorder, storeConfig(), PriceBookLoader.fromClasspath(), Clock.systemUTC()).prime();
        new AccountsHandler(recorder, storeConfig(), new dev.credits.accounts.AlertSubscriptions.LogOnly(), Clock.systemUTC()).prime();
        new HistoryHandler(recorder, storeConfig(), Clock.systemUTC()).prime();
        assertFalse(recorder.calls.isEmpty(), "priming did reach DynamoDB (reads), so the client is warm");
        assertTrue(Set.of("GetItem", "Query").containsAll(recorder.calls), "only reads: " + recorder.calls);
        assertEquals(accountsBefore, count("AccountsTable"));
        assertEquals(ledgerBefore, count("LedgerTable"));
    }

    @Test
    void theRegisteredCheckpointHooksRunTheSamePrimingAndWriteNothing() {
        // the handlers built the Lambda way (from the environment) register their hooks with CRaC
        new UsageHandler(runner().functionEnv());
        new HistoryHandler(runner().functionEnv());
        int accountsBefore = count("AccountsTable");
        int ledgerBefore = count("LedgerTable");
        Priming.primeAll();
        assertEquals(accountsBefore, count("AccountsTable"));
        assertEquals(ledgerBefore, count("LedgerTable"));
    }
}
