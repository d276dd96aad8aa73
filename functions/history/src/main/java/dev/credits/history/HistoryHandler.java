package dev.credits.history;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.domain.Outcomes;
import dev.credits.core.http.ApiException;
import dev.credits.core.http.Caller;
import dev.credits.core.http.HttpFunction;
import dev.credits.core.http.Request;
import dev.credits.core.http.Response;
import dev.credits.core.http.Views;
import dev.credits.core.money.Credits;
import dev.credits.core.store.Clients;
import dev.credits.core.store.CreditsStore;
import dev.credits.core.store.StoreConfig;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Usage History (the ledger, newest first, by cursor) and Usage Overview (daily totals). Read-only. */
public final class HistoryHandler extends HttpFunction {
    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 500;
    static final int MAX_SUMMARY_DAYS = 366;
    private static final Pattern TS = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z#[\\x21-\\x7e]{1,200}");

    static {
        // a History page starts its shard Queries side by side (CreditsStore.PARALLEL_READS); the URL-connection HTTP
        // client keeps idle connections in the JDK's keep-alive cache, 5 per host unless told otherwise, so without
        // this most of them would be closed after each page and opened (with TLS) again on the next
        if (System.getProperty("http.maxConnections") == null) {
            System.setProperty("http.maxConnections", Integer.toString(CreditsStore.PARALLEL_READS));
        }
    }

    private final CreditsStore store;
    private final Clock clock;

    public HistoryHandler() {
        this(System.getenv());
    }

    public HistoryHandler(Map<String, String> env) {
        this(Clients.dynamo(StoreConfig.fromEnv(env)), StoreConfig.fromEnv(env), Clock.systemUTC());
        dev.credits.core.snap.Priming.register("history", this::prime);
    }

    /** SnapStart priming (reads only): a request without claims, a history page and daily totals of no account. */
    public void prime() {
        handleRequest(com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent.builder()
                .withRouteKey("GET /v1/accounts/{id}/usage").withPathParameters(Map.of("id", "snapstart-priming-not-an-account")).build(), null);
        AccountId none = new AccountId("snapstart-priming-not-an-account");
        store.history(none, null, null, Set.of(), 50, null);
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        store.dailyTotals(none, today.minusDays(30), today);
    }

    public HistoryHandler(DynamoDbClient dynamo, StoreConfig config, Clock clock) {
        this.store = new CreditsStore(dynamo, config, clock);
        this.clock = clock;
    }

    @Override
    protected APIGatewayV2HTTPResponse route(Request r) {
        return switch (r.routeKey()) {
            case "GET /v1/accounts/{id}/usage" -> history(r);
            case "GET /v1/accounts/{id}/usage/summary" -> summary(r);
            default -> throw noRoute(r);
        };
    }

    private AccountId authorized(Request r) {
        String id = r.accountId();
        r.caller().require(id, Caller.Role.OWNER, Caller.Role.ADMIN);
        AccountId account = new AccountId(id);
        if (store.get(account).isEmpty()) throw ApiException.notFound(id);
        return account;
    }

    private static void onlyParams(Request r, Set<String> allowed) {
        for (String k : r.queryNames()) {
            if (!allowed.contains(k)) throw ApiException.invalid(k, "is not a known query parameter");
        }
    }

    private APIGatewayV2HTTPResponse history(Request r) {
        onlyParams(r, Set.of("from", "to", "type", "limit", "cursor"));
        Instant from = time(r, "from", false);
        Instant to = time(r, "to", true);
        if (from != null && to != null && !from.isBefore(to)) throw ApiException.invalid("from", "must be before 'to'");
        Set<EntryType> types = types(r.query("type"));
        int limit = limit(r.query("limit"));
        String before = decodeCursor(r.query("cursor"));
        AccountId account = authorized(r);
        Outcomes.HistoryPage page = store.history(account, from, to, types, limit, before);
        List<Object> items = new ArrayList<>();
        for (LedgerEntry e : page.items()) items.add(Views.entry(e));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("accountId", account.value());
        body.put("items", items);
        body.put("nextCursor", page.nextBefore() == null ? null : encodeCursor(page.nextBefore()));
        return Response.json(200, body);
    }

    /** An ISO instant, or a date (start of that UTC day; for 'to', the end of it, exclusive). */
    /** The years a ledger time can have (the key format is fixed-width on four-digit years). */
    static final Instant EARLIEST = Instant.parse("2000-01-01T00:00:00Z");
    static final Instant LATEST = Instant.parse("9999-01-01T00:00:00Z");

    private static Instant time(Request r, String name, boolean endOfDay) {
        String s = r.query(name);
        if (s == null) return null;
        try {
            Instant t;
            if (s.length() == 10) {
                LocalDate d = LocalDate.parse(s);
                t = (endOfDay ? d.plusDays(1) : d).atStartOfDay(ZoneOffset.UTC).toInstant();
            } else {
                t = Instant.parse(s);
            }
            if (t.isBefore(EARLIEST) || t.isAfter(LATEST)) throw ApiException.invalid(name, "must be between the years 2000 and 9998");
            return t;
        } catch (java.time.DateTimeException e) {
            throw ApiException.invalid(name, "must be a date (2026-11-24) or an ISO-8601 UTC time (2026-11-24T10:00:00Z)");
        }
    }

    private static Set<EntryType> types(String s) {
        if (s == null) return Set.of();
        Set<EntryType> out = EnumSet.noneOf(EntryType.class);
        for (String t : s.split(",", -1)) {
            out.add(EntryType.fromWire(t.trim()).orElseThrow(() -> ApiException.invalid("type",
                    "must be a comma-separated list of ai_tokens, workload_units, grant, forfeit, topup, plan_credit, clawback, hold, capture, release")));
        }
        return out;
    }

    private static int limit(String s) {
        if (s == null) return DEFAULT_LIMIT;
        try {
            int n = Integer.parseInt(s);
            if (n >= 1 && n <= MAX_LIMIT) return n;
        } catch (NumberFormatException ignored) {
            // fall through to the error
        }
        throw ApiException.invalid("limit", "must be a whole number from 1 to " + MAX_LIMIT);
    }

    static String encodeCursor(String ts) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(("v1|" + ts).getBytes(StandardCharsets.UTF_8));
    }

    static String decodeCursor(String cursor) {
        if (cursor == null) return null;
        try {
            String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            if (s.startsWith("v1|") && TS.matcher(s.substring(3)).matches()) return s.substring(3);
        } catch (IllegalArgumentException ignored) {
            // fall through to the error
        }
        throw ApiException.invalid("cursor", "is not a cursor this API returned");
    }

    private APIGatewayV2HTTPResponse summary(Request r) {
        onlyParams(r, Set.of("from", "to"));
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        LocalDate to = date(r, "to", today);
        LocalDate from = date(r, "from", to.minusDays(29));
        if (from.isAfter(to)) throw ApiException.invalid("from", "must not be after 'to'");
        if (ChronoUnit.DAYS.between(from, to) + 1 > MAX_SUMMARY_DAYS) {
            throw ApiException.invalid("from", "the range must be at most " + MAX_SUMMARY_DAYS + " days");
        }
        AccountId account = authorized(r);
        Map<LocalDate, Outcomes.DayTotals> totals = store.dailyTotals(account, from, to);
        List<Object> days = new ArrayList<>();
        Outcomes.DayTotals sum = Outcomes.DayTotals.empty(from);
        for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
            Outcomes.DayTotals t = totals.getOrDefault(d, Outcomes.DayTotals.empty(d));
            days.add(view(t, true));
            sum = new Outcomes.DayTotals(from, sum.aiCredits() + t.aiCredits(), sum.aiInputTokens() + t.aiInputTokens(),
                    sum.aiOutputTokens() + t.aiOutputTokens(), sum.aiEvents() + t.aiEvents(),
                    sum.wuCredits() + t.wuCredits(), sum.wuUnits() + t.wuUnits(), sum.wuEvents() + t.wuEvents());
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("accountId", account.value());
        body.put("from", from.toString());
        body.put("to", to.toString());
        body.put("totals", view(sum, false));
        body.put("days", days);
        return Response.json(200, body);
    }

    private static LocalDate date(Request r, String name, LocalDate fallback) {
        String s = r.query(name);
        if (s == null) return fallback;
        try {
            LocalDate d = LocalDate.parse(s);
            if (d.getYear() < 2000 || d.getYear() > 9998) throw ApiException.invalid(name, "must be between the years 2000 and 9998");
            return d;
        } catch (DateTimeParseException e) {
            throw ApiException.invalid(name, "must be a date such as 2026-11-24");
        }
    }

    private static Map<String, Object> view(Outcomes.DayTotals t, boolean withDate) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (withDate) m.put("date", t.day().toString());
        m.put("credits", Credits.toCredits(t.credits()));
        Map<String, Object> ai = new LinkedHashMap<>();
        ai.put("credits", Credits.toCredits(t.aiCredits()));
        ai.put("inputTokens", t.aiInputTokens());
        ai.put("outputTokens", t.aiOutputTokens());
        ai.put("events", t.aiEvents());
        m.put("aiTokens", ai);
        Map<String, Object> wu = new LinkedHashMap<>();
        wu.put("credits", Credits.toCredits(t.wuCredits()));
        wu.put("units", t.wuUnits());
        wu.put("events", t.wuEvents());
        m.put("workloadUnits", wu);
        return m;
    }
}
