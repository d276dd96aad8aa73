package dev.credits.core.store;

import dev.credits.core.domain.AccountId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeysTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "2026-11-24T10:00:00Z,           2026-11-24T10:00:00.000Z",
            "2026-11-24T10:00:00.5Z,         2026-11-24T10:00:00.500Z",
            "2026-11-24T10:00:00.123456789Z, 2026-11-24T10:00:00.123Z",
            "2026-01-02T03:04:05.006Z,       2026-01-02T03:04:05.006Z",
    })
    void timeIsFixedWidthUtc(String instant, String key) {
        assertEquals(key, Keys.time(Instant.parse(instant)));
        assertEquals(24, Keys.time(Instant.parse(instant)).length());
    }

    @Test
    void tsStringOrderIsTimeOrder() {
        List<Instant> times = new ArrayList<>(List.of(
                Instant.parse("2026-11-24T10:00:00Z"),        // .000 must not be dropped
                Instant.parse("2026-11-24T10:00:00.001Z"),
                Instant.parse("2026-11-24T10:00:00.010Z"),
                Instant.parse("2026-11-24T10:00:00.100Z"),
                Instant.parse("2026-11-24T10:00:01Z"),
                Instant.parse("2026-11-24T09:59:59.999Z"),
                Instant.parse("2026-11-25T00:00:00Z"),
                Instant.parse("2026-12-01T00:00:00Z"),
                Instant.parse("2027-01-01T00:00:00Z"),
                Instant.parse("2000-01-01T00:00:00Z")));
        Random r = new Random(42);
        for (int i = 0; i < 500; i++) {
            times.add(Instant.ofEpochMilli(1_700_000_000_000L + (long) (r.nextDouble() * 400L * 24 * 3600 * 1000)));
        }
        // a long sort key must not disturb time order: ts = time + '#' + sk
        List<String> byTime = times.stream().sorted()
                .map(t -> Keys.ts(t, "usage#" + "z".repeat((int) (t.toEpochMilli() % 50)))).toList();
        List<String> byString = byTime.stream().sorted().toList();
        assertEquals(byTime, byString);
        for (int i = 1; i < byTime.size(); i++) {
            String a = byTime.get(i - 1).substring(0, 24), b = byTime.get(i).substring(0, 24);
            assertTrue(a.compareTo(b) <= 0, a + " vs " + b);
        }
    }

    @Test
    void tsWithinTheSameMillisecondOrdersBySortKey() {
        Instant t = Instant.parse("2026-11-24T10:00:00.123Z");
        assertEquals("2026-11-24T10:00:00.123Z#usage#evt-1", Keys.ts(t, "usage#evt-1"));
        assertTrue(Keys.ts(t, "usage#a").compareTo(Keys.ts(t.plusMillis(1), "usage#0")) < 0);
    }

    @Test
    void shardIsInRangeAndStable() {
        Set<Integer> seen = new HashSet<>();
        List<String> keys = new ArrayList<>(List.of("", "usage#evt-1", "grant#g1", "polygenelubricants",
                "usage#" + "~".repeat(128)));
        for (int i = 0; i < 10_000; i++) keys.add("usage#evt-" + i);
        assertEquals(Integer.MIN_VALUE, "polygenelubricants".hashCode()); // the most negative hash
        for (String sk : keys) {
            int s = Keys.shardOf(sk);
            assertTrue(s >= 0 && s < Keys.SHARDS, sk + " -> " + s);
            assertEquals(s, Keys.shardOf(new String(sk)), "the same key must always land in the same shard");
            seen.add(s);
        }
        assertEquals(Keys.SHARDS, seen.size(), "every shard is used");
    }

    @Test
    void partitionKeys() {
        AccountId a = new AccountId("acct-1");
        String sk = "usage#evt-1";
        assertEquals("acct-1#" + Keys.shardOf(sk), Keys.entryPk(a, sk));
        assertEquals(Keys.shardPk(a, Keys.shardOf(sk)), Keys.entryPk(a, sk));
        assertEquals("acct-1#day", Keys.dayPk(a));
        assertEquals("acct-1", Keys.accountOfPk(Keys.entryPk(a, sk)));
        assertEquals("acct-1", Keys.accountOfPk(Keys.dayPk(a)));
        assertEquals("acct-1", Keys.accountOfPk("acct-1"));
        // a usage entry's History row lives in the entry's shard number, under its own partition key
        assertEquals("acct-1#usage#" + Keys.shardOf(sk), Keys.usagePk(a, sk));
        assertEquals(Keys.usageShardPk(a, Keys.shardOf(sk)), Keys.usagePk(a, sk));
        assertEquals("acct-1", Keys.accountOfPk(Keys.usagePk(a, sk)));
    }

    @Test
    void dayIsTheUtcDate() {
        assertEquals("2026-11-24", Keys.day(Instant.parse("2026-11-24T23:59:59.999Z")));
        assertEquals("2026-11-25", Keys.day(Instant.parse("2026-11-25T00:00:00Z")));
    }

    @Test
    void shardKeysOfAllShardsAreDistinct() {
        AccountId a = new AccountId("a");
        Set<String> pks = new HashSet<>();
        for (int s = 0; s < Keys.SHARDS; s++) {
            pks.add(Keys.shardPk(a, s));
            pks.add(Keys.usageShardPk(a, s));
        }
        pks.add(Keys.dayPk(a));
        assertEquals(2 * Keys.SHARDS + 1, pks.size(), "entries, usage rows and day totals never share a partition key");
        assertTrue(pks.stream().sorted(Comparator.naturalOrder()).allMatch(p -> p.startsWith("a#")));
    }
}
