package dev.credits.core.store;

import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Which ledger items the history index sees, and what a usage entry's History row carries. */
class ItemsTest {
    private static final AccountId A = new AccountId("acct-1");
    private static final Instant AT = Instant.parse("2026-11-25T10:00:00.123Z");

    private static LedgerEntry usage() {
        return new LedgerEntry(A, "usage#evt-1", EntryType.AI_TOKENS, -390, AT, Instant.parse("2026-11-25T09:59:59Z"),
                "evt-1", "gpt-4o-mini", 1200L, 350L, null, null,
                Map.of("inputPer1M", new BigDecimal("0.15"), "outputPer1M", new BigDecimal("0.60")), "2026-11-01.1", null, "hash");
    }

    @Test
    void aUsageEntryIsNotInTheHistoryIndexAndEveryOtherEntryIs() {
        assertFalse(Items.entry(usage()).containsKey("ts"), "a usage charge writes no index copy");
        LedgerEntry grant = new LedgerEntry(A, "grant#g1", EntryType.GRANT, 5_000_000, AT, null, null, null, null, null,
                null, null, Map.of(), null, "support", null);
        assertEquals(Keys.ts(AT, "grant#g1"), Items.entry(grant).get("ts").s());
        for (EntryType t : EntryType.values()) {
            LedgerEntry e = new LedgerEntry(A, t.wire() + "#x", t, 0, AT, null, null, null, null, null, null, null, Map.of(), null, null, null);
            assertEquals(!t.isUsage(), Items.entry(e).containsKey("ts"), t + ": indexed exactly when it is not usage");
        }
    }

    @Test
    void aUsageRowIsKeyedByTimeInItsOwnPartitionAndReadsBackAsTheSameEntry() {
        LedgerEntry e = usage();
        Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue> row = Items.usageRow(e);
        assertEquals(Keys.usagePk(A, "usage#evt-1"), row.get("pk").s());
        assertEquals("2026-11-25T10:00:00.123Z#usage#evt-1", row.get("sk").s());
        assertEquals("usage", row.get("kind").s(), "not 'entry': the aggregator's filter never sees its own rows");
        assertFalse(row.containsKey("ts"), "a row is not indexed again");
        assertEquals(e, Items.entry(row), "History reads the entry back from its row, field for field");
        assertEquals(e, Items.entry(Items.entry(e)), "and from the entry itself");
    }

    @Test
    void onlyUsageHasRows() {
        LedgerEntry topup = new LedgerEntry(A, "topup#cs_1", EntryType.TOPUP, 1_000_000, AT, null, null, null, null, null,
                null, null, Map.of(), null, null, null);
        assertThrows(IllegalArgumentException.class, () -> Items.usageRow(topup));
    }
}
