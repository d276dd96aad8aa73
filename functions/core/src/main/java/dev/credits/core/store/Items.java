package dev.credits.core.store;

import dev.credits.core.domain.Account;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.AccountStatus;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Maps domain records to DynamoDB items and back. The only place that knows attribute names. */
public final class Items {
    private Items() {}

    static AttributeValue s(String v) { return AttributeValue.builder().s(v).build(); }
    static AttributeValue n(long v) { return AttributeValue.builder().n(Long.toString(v)).build(); }
    static AttributeValue n(BigDecimal v) { return AttributeValue.builder().n(v.toPlainString()).build(); }
    static AttributeValue bool(boolean v) { return AttributeValue.builder().bool(v).build(); }

    public static Map<String, AttributeValue> accountKey(AccountId id) {
        return Map.of("accountId", s(id.value()));
    }

    public static Map<String, AttributeValue> newAccount(Account a) {
        Map<String, AttributeValue> m = new HashMap<>();
        m.put("accountId", s(a.id().value()));
        m.put("status", s(a.status().name()));
        m.put("balance", n(a.balance()));
        m.put("held", n(a.held()));
        m.put("hardLimit", n(a.hardLimit()));
        m.put("spendable", n(a.spendable()));
        if (a.softLimit() != null) {
            m.put("softLimit", n(a.softLimit()));
            long headroom = a.balance() - a.softLimit();
            // created below its soft limit: nothing crossed yet (an INSERT has no old image), so no alert until a
            // write takes it from at or above to below
            m.put("softHeadroom", n(headroom));
        }
        if (a.alertEmail() != null) m.put("alertEmail", s(a.alertEmail()));
        if (a.plan() != null) m.put("plan", s(a.plan()));
        m.put("createdAt", s(a.createdAt().toString()));
        m.put("updatedAt", s(a.updatedAt().toString()));
        m.put("rev", n(0));
        return m;
    }

    public static Account account(Map<String, AttributeValue> m) {
        return new Account(
                new AccountId(m.get("accountId").s()),
                AccountStatus.valueOf(m.get("status").s()),
                longOf(m, "balance"),
                longOf(m, "held"),
                longOf(m, "hardLimit"),
                m.containsKey("softLimit") ? longOf(m, "softLimit") : null,
                str(m, "alertEmail"),
                str(m, "plan"),
                Instant.parse(m.get("createdAt").s()),
                Instant.parse(m.get("updatedAt").s()),
                m.containsKey("closedAt") ? Instant.parse(m.get("closedAt").s()) : null);
    }

    public static Map<String, AttributeValue> entryKey(AccountId account, String sk) {
        return Map.of("pk", s(Keys.entryPk(account, sk)), "sk", s(sk));
    }

    public static Map<String, AttributeValue> entry(LedgerEntry e) {
        Map<String, AttributeValue> m = new HashMap<>(entryKey(e.accountId(), e.entryId()));
        // only entries that are not usage carry the history index's sort key: a usage entry reaches History through
        // its usage row, which the aggregator writes when it counts the entry (off the charge's request)
        if (!e.type().isUsage()) m.put("ts", s(Keys.ts(e.recordedAt(), e.entryId())));
        m.put("kind", s("entry"));
        m.put("account", s(e.accountId().value()));
        m.put("type", s(e.type().wire()));
        m.put("amount", n(e.amount()));
        m.put("recordedAt", s(Keys.time(e.recordedAt())));
        if (e.occurredAt() != null) m.put("occurredAt", s(e.occurredAt().toString()));
        if (e.eventId() != null) m.put("eventId", s(e.eventId()));
        if (e.model() != null) m.put("model", s(e.model()));
        if (e.inputTokens() != null) m.put("inputTokens", n(e.inputTokens()));
        if (e.outputTokens() != null) m.put("outputTokens", n(e.outputTokens()));
        if (e.unitKind() != null) m.put("unitKind", s(e.unitKind()));
        if (e.units() != null) m.put("units", n(e.units()));
        if (!e.rates().isEmpty()) {
            Map<String, AttributeValue> r = new HashMap<>();
            e.rates().forEach((k, v) -> r.put(k, n(v)));
            m.put("rates", AttributeValue.builder().m(r).build());
        }
        if (e.priceBookVersion() != null) m.put("priceBookVersion", s(e.priceBookVersion()));
        if (e.reason() != null) m.put("reason", s(e.reason()));
        if (e.requestHash() != null) m.put("requestHash", s(e.requestHash()));
        if (!e.references().isEmpty()) {
            Map<String, AttributeValue> r = new HashMap<>();
            e.references().forEach((k, v) -> r.put(k, s(v)));
            m.put("references", AttributeValue.builder().m(r).build());
        }
        return m;
    }

    /**
     * A usage entry's row in History, put by the aggregator in the same transaction that adds the entry to its day's
     * totals, and only if absent: it is also the record that the entry was counted. Keyed by time, in its own
     * partitions ({@link Keys#usagePk}), so History reads usage in time order without an index, and a usage charge
     * writes no index copy. It carries the entry's attributes and its key ({@code entrySk}), never the index's
     * {@code ts}.
     */
    public static Map<String, AttributeValue> usageRow(LedgerEntry e) {
        if (!e.type().isUsage()) throw new IllegalArgumentException("only usage entries have usage rows: " + e.type());
        Map<String, AttributeValue> m = entry(e);
        m.put("pk", s(Keys.usagePk(e.accountId(), e.entryId())));
        m.put("sk", s(Keys.ts(e.recordedAt(), e.entryId())));
        m.put("entrySk", s(e.entryId()));
        m.put("kind", s("usage"));
        return m;
    }

    public static LedgerEntry entry(Map<String, AttributeValue> m) {
        Map<String, BigDecimal> rates = new java.util.TreeMap<>(); // inputPer1M before outputPer1M
        AttributeValue r = m.get("rates");
        if (r != null && r.hasM()) r.m().forEach((k, v) -> rates.put(k, new BigDecimal(v.n())));
        return new LedgerEntry(
                new AccountId(m.get("account").s()),
                m.containsKey("entrySk") ? m.get("entrySk").s() : m.get("sk").s(),
                EntryType.fromWire(m.get("type").s()).orElseThrow(),
                longOf(m, "amount"),
                Instant.parse(m.get("recordedAt").s()),
                m.containsKey("occurredAt") ? Instant.parse(m.get("occurredAt").s()) : null,
                str(m, "eventId"),
                str(m, "model"),
                m.containsKey("inputTokens") ? longOf(m, "inputTokens") : null,
                m.containsKey("outputTokens") ? longOf(m, "outputTokens") : null,
                str(m, "unitKind"),
                m.containsKey("units") ? longOf(m, "units") : null,
                rates,
                str(m, "priceBookVersion"),
                str(m, "reason"),
                str(m, "requestHash"),
                references(m));
    }

    private static Map<String, String> references(Map<String, AttributeValue> m) {
        Map<String, String> out = new LinkedHashMap<>();
        AttributeValue r = m.get("references");
        if (r != null && r.hasM()) r.m().forEach((k, v) -> out.put(k, v.s()));
        if ("hold".equals(str(m, "type")) && m.containsKey("status")) {
            // a hold's entry carries its current state, shown in the history next to it
            out.put("status", m.get("status").s());
            out.put("held", dev.credits.core.money.Credits.format(longOf(m, "held")));
            out.put("captured", dev.credits.core.money.Credits.format(longOf(m, "captured")));
            out.put("remaining", dev.credits.core.money.Credits.format(longOf(m, "holdRemaining")));
            out.put("expiresAt", m.get("expiresAtIso").s());
        }
        return out;
    }

    public static long longOf(Map<String, AttributeValue> m, String k) {
        return Long.parseLong(m.get(k).n());
    }

    public static String str(Map<String, AttributeValue> m, String k) {
        AttributeValue v = m.get(k);
        return v == null ? null : v.s();
    }
}
