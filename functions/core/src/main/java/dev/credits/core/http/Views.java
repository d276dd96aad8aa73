package dev.credits.core.http;

import dev.credits.core.domain.Account;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.money.Credits;

import java.util.LinkedHashMap;
import java.util.Map;

/** JSON views of domain records: amounts in credits (exact decimals), times in ISO-8601 UTC. */
public final class Views {
    private Views() {}

    public static Map<String, Object> account(Account a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accountId", a.id().value());
        m.put("status", a.status().name());
        m.put("balance", Credits.toCredits(a.balance()));
        m.put("held", Credits.toCredits(a.held()));
        m.put("available", Credits.toCredits(a.available()));
        m.put("hardLimit", Credits.toCredits(a.hardLimit()));
        m.put("softLimit", a.softLimit() == null ? null : Credits.toCredits(a.softLimit()));
        m.put("spendable", Credits.toCredits(Math.max(0, a.spendable())));
        m.put("usageStopped", a.spendable() <= 0);
        m.put("alertEmail", a.alertEmail());
        m.put("plan", a.plan());
        m.put("createdAt", a.createdAt().toString());
        m.put("updatedAt", a.updatedAt().toString());
        if (a.closedAt() != null) m.put("closedAt", a.closedAt().toString());
        return m;
    }

    public static Map<String, Object> entry(LedgerEntry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("entryId", e.entryId());
        m.put("type", e.type().wire());
        m.put("amount", Credits.toCredits(e.amount()));
        m.put("recordedAt", dev.credits.core.store.Keys.time(e.recordedAt())); // fixed width: sorts as it reads
        if (e.occurredAt() != null) m.put("occurredAt", e.occurredAt().toString());
        if (e.eventId() != null) m.put("eventId", e.eventId());
        if (e.type().isUsage()) m.put("charged", Credits.toCredits(e.charged()));
        if (e.model() != null) m.put("model", e.model());
        if (e.inputTokens() != null) m.put("inputTokens", e.inputTokens());
        if (e.outputTokens() != null) m.put("outputTokens", e.outputTokens());
        if (e.unitKind() != null) m.put("unit", e.unitKind());
        if (e.units() != null) m.put("units", e.units());
        if (!e.rates().isEmpty()) {
            Map<String, Object> r = new LinkedHashMap<>();
            e.rates().forEach((k, v) -> r.put(k, v.stripTrailingZeros()));
            m.put("rates", r);
        }
        if (e.priceBookVersion() != null) m.put("priceBookVersion", e.priceBookVersion());
        if (e.reason() != null) m.put("reason", e.reason());
        if (!e.references().isEmpty()) m.put("references", new java.util.TreeMap<>(e.references()));
        return m;
    }
}
