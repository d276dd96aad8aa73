package dev.credits.core.store;

import dev.credits.core.domain.AccountId;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The key design, in one place.
 *
 * <ul>
 *   <li>Accounts table: one item per account, key {@code accountId}. It holds balance, held, hardLimit and
 *       {@code spendable = balance - held - hardLimit}, the one number every charge's condition reads.</li>
 *   <li>Ledger table, entries: {@code pk = <account>#<shard>}, {@code sk = <kind>#<caller id>} (so the entry itself is
 *       the permanent idempotency record). Entries that are not usage also carry {@code ts = <recorded time>#<sk>},
 *       indexed by the sparse {@code history} GSI (pk, ts); usage entries do not, so a charge writes no index copy.
 *       The shard spreads one account's ledger writes over {@value #SHARDS} partition keys: at about 1,000 write units
 *       per partition per second and 2 per transactional entry, that is room for about 8,000 events per second for
 *       one account (batched, so the account item takes one update per batch).</li>
 *   <li>Ledger table, daily totals: {@code pk = <account>#day}, {@code sk = yyyy-MM-dd}, kept by the aggregator.</li>
 *   <li>Ledger table, usage rows: {@code pk = <account>#usage#<shard>}, {@code sk = <recorded time>#<entry sk>}: a copy
 *       of each usage entry, put by the aggregator (only if absent) in the same transaction as the day's totals, so it
 *       is both the entry's place in History (time-ordered, no index) and the record that it was counted exactly
 *       once. They live apart from the entries so that counting takes no write units from the entries' partitions.
 *       History merges the rows with the index's entries, shard by shard.</li>
 * </ul>
 * Account ids never contain '#', so no two of these keys can collide.
 */
public final class Keys {
    /** Ledger partitions per account. Readers query all of them; never lower this without migrating data. */
    public static final int SHARDS = 16;
    public static final String HISTORY_INDEX = "history";

    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private Keys() {}

    public static int shardOf(String sk) {
        return Math.floorMod(sk.hashCode(), SHARDS);
    }

    public static String entryPk(AccountId account, String sk) {
        return account.value() + "#" + shardOf(sk);
    }

    public static String shardPk(AccountId account, int shard) {
        return account.value() + "#" + shard;
    }

    /** Partition of a usage entry's History row: the entry's shard, apart from the entries. */
    public static String usagePk(AccountId account, String sk) {
        return account.value() + "#usage#" + shardOf(sk);
    }

    public static String usageShardPk(AccountId account, int shard) {
        return account.value() + "#usage#" + shard;
    }

    public static String dayPk(AccountId account) {
        return account.value() + "#day";
    }

    public static String day(Instant t) {
        return LocalDate.ofInstant(t, ZoneOffset.UTC).toString();
    }

    /** Fixed-width, so that string order is time order. */
    public static String time(Instant t) {
        return TS.format(t);
    }

    public static String ts(Instant recordedAt, String sk) {
        return time(recordedAt) + "#" + sk;
    }

    /** Account of a ledger key: the part before the first '#'. */
    public static String accountOfPk(String pk) {
        int i = pk.indexOf('#');
        return i < 0 ? pk : pk.substring(0, i);
    }
}
