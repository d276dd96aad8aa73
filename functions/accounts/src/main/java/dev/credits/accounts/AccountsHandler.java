package dev.credits.accounts;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.domain.Account;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.AccountStatus;
import dev.credits.core.domain.Change;
import dev.credits.core.domain.ChargeOutcome;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.EventId;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.domain.Limits;
import dev.credits.core.domain.Outcomes;
import dev.credits.core.http.ApiException;
import dev.credits.core.http.Caller;
import dev.credits.core.http.Fields;
import dev.credits.core.http.HttpFunction;
import dev.credits.core.http.Request;
import dev.credits.core.http.Response;
import dev.credits.core.http.Views;
import dev.credits.core.money.Credits;
import dev.credits.core.store.AlertStore;
import dev.credits.core.store.Clients;
import dev.credits.core.store.CreditsStore;
import dev.credits.core.store.StoreConfig;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/** Account management: create (admin), read, set limits, grant credits (admin), close. */
public final class AccountsHandler extends HttpFunction {
    static final int MAX_BODY_BYTES = 8 * 1024;
    private static final Pattern PLAN = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]{1,64}@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+");

    private final CreditsStore store;
    private final AlertStore alerts;
    private final AlertSubscriptions subscriptions;
    private final Clock clock;

    public AccountsHandler() {
        this(System.getenv());
    }

    public AccountsHandler(Map<String, String> env) {
        this(Clients.dynamo(StoreConfig.fromEnv(env)), StoreConfig.fromEnv(env), AlertSubscriptions.fromEnv(env),
                Clock.systemUTC());
        dev.credits.core.snap.Priming.register("accounts", this::prime);
    }

    /** SnapStart priming without a write: a request without claims through the shell, and an account read. */
    public void prime() {
        handleRequest(com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent.builder()
                .withRouteKey("GET /v1/accounts/{id}").withPathParameters(Map.of("id", "snapstart-priming-not-an-account")).build(), null);
        store.get(new AccountId("snapstart-priming-not-an-account"));
    }

    public AccountsHandler(DynamoDbClient dynamo, StoreConfig config, AlertSubscriptions subscriptions, Clock clock) {
        this.store = new CreditsStore(dynamo, config, clock);
        this.alerts = new AlertStore(dynamo, config, clock);
        this.subscriptions = subscriptions;
        this.clock = clock;
    }

    @Override
    protected APIGatewayV2HTTPResponse route(Request r) {
        return switch (r.routeKey()) {
            case "POST /v1/accounts" -> create(r);
            case "GET /v1/accounts/{id}" -> get(r);
            case "PUT /v1/accounts/{id}/limits" -> limits(r);
            case "POST /v1/accounts/{id}/grants" -> grant(r);
            case "POST /v1/accounts/{id}/close" -> close(r);
            default -> throw noRoute(r);
        };
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private APIGatewayV2HTTPResponse create(Request r) {
        Caller caller = r.caller();
        if (!caller.isAdmin()) throw new ApiException(403, "forbidden", "Only a platform admin may create accounts.");
        Fields f = new Fields(r.jsonBody(MAX_BODY_BYTES)).only(Set.of("accountId", "plan", "hardLimit", "softLimit", "alertEmail"));
        String id = f.string("accountId", true);
        if (!AccountId.isValid(id)) throw ApiException.invalid("accountId", "must be 1 to 64 of A-Z a-z 0-9 _ -");
        String plan = f.string("plan", false);
        if (plan != null && !PLAN.matcher(plan).matches()) throw ApiException.invalid("plan", "must be 1 to 64 of A-Z a-z 0-9 _ -");
        Long hard = f.credits("hardLimit", false, false, true);
        Long soft = f.credits("softLimit", false, false, true);
        String email = email(f);
        long hardLimit = hard == null ? 0 : hard;
        Limits.check(hardLimit, soft).ifPresent(p -> { throw ApiException.invalid(p.field(), p.message()); });
        Instant now = now();
        Account a = new Account(new AccountId(id), AccountStatus.ACTIVE, 0, 0, hardLimit, soft, email, plan, now, now, null);
        return switch (store.create(a)) {
            case Outcomes.Create.Created c -> {
                if (email != null) reconcileSubscription(c.account().id(), r.requestId());
                yield Response.json(201, Views.account(c.account()));
            }
            case Outcomes.Create.AlreadyCreated c -> {
                // the first attempt may have stopped between the item and the subscription
                if (email != null) reconcileSubscription(c.account().id(), r.requestId());
                yield Response.json(200, Views.account(c.account()));
            }
            case Outcomes.Create.Exists e -> throw new ApiException(409, "account_exists",
                    "Account '" + id + "' already exists.", Map.of("field", "accountId"), null);
        };
    }

    private static String email(Fields f) {
        String email = f.string("alertEmail", false);
        if (email != null && (email.length() > 254 || !EMAIL.matcher(email).matches())) {
            throw ApiException.invalid("alertEmail", "must be an email address");
        }
        return email;
    }

    private APIGatewayV2HTTPResponse get(Request r) {
        String id = r.accountId();
        r.caller().require(id, Caller.Role.OWNER, Caller.Role.ADMIN);
        Account a = store.get(new AccountId(id)).orElseThrow(() -> ApiException.notFound(id));
        return Response.json(200, Views.account(a));
    }

    private APIGatewayV2HTTPResponse limits(Request r) {
        String id = r.accountId();
        r.caller().require(id, Caller.Role.OWNER, Caller.Role.ADMIN);
        Fields f = new Fields(r.jsonBody(MAX_BODY_BYTES)).only(Set.of("softLimit", "hardLimit", "alertEmail"));
        if (!f.has("softLimit") && !f.has("hardLimit") && !f.has("alertEmail")) {
            throw ApiException.invalidBody("Send at least one of softLimit, hardLimit, alertEmail.");
        }
        Change<Long> soft = f.has("softLimit")
                ? (f.isNull("softLimit") ? new Change.Clear<>() : new Change.To<>(f.credits("softLimit", true, false, true)))
                : new Change.Keep<>();
        Change<Long> hard = f.has("hardLimit")
                ? (f.isNull("hardLimit") ? new Change.Clear<>() : new Change.To<>(f.credits("hardLimit", true, false, true)))
                : new Change.Keep<>();
        Change<String> mail = f.has("alertEmail")
                ? (f.isNull("alertEmail") ? new Change.Clear<>() : new Change.To<>(email(f)))
                : new Change.Keep<>();
        return switch (store.setLimits(new AccountId(id), new Limits.LimitsChange(soft, hard, mail))) {
            case Outcomes.SetLimits.Updated u -> {
                reconcileSubscription(u.account().id(), r.requestId());
                yield Response.json(200, Views.account(u.account()));
            }
            case Outcomes.SetLimits.Invalid i -> throw ApiException.invalid(i.problem().field(), i.problem().message());
            case Outcomes.SetLimits.Closed c -> throw ApiException.closed(id);
            case Outcomes.SetLimits.NotFound n -> throw ApiException.notFound(id);
        };
    }

    /**
     * Makes the SNS subscription match the stored alert email: subscribe the new address, record it, then drop the
     * old one. Runs after every limits update, so a retry after a failure here finishes the job.
     */
    private void reconcileSubscription(AccountId id, String requestId) {
        AlertStore.SubscriptionState st = alerts.subscriptionState(id);
        String have = st.current() == null ? null : st.current().email();
        if (java.util.Objects.equals(st.wantedEmail(), have)) return;
        AlertStore.Subscription next = st.wantedEmail() == null ? null
                : new AlertStore.Subscription(st.wantedEmail(), subscriptions.subscribe(id.value(), st.wantedEmail(), requestId));
        alerts.recordSubscription(id, next);
        if (st.current() != null) subscriptions.unsubscribe(st.current().arn(), requestId);
    }

    private APIGatewayV2HTTPResponse grant(Request r) {
        String id = r.accountId();
        Caller caller = r.caller();
        if (!caller.isAdmin()) throw new ApiException(403, "forbidden", "Only a platform admin may grant credits.");
        Fields f = new Fields(r.jsonBody(MAX_BODY_BYTES)).only(Set.of("credits", "reason", "grantId"));
        long micros = f.credits("credits", true, false, false);
        String reason = f.string("reason", true);
        if (reason.isBlank() || reason.length() > 500) throw ApiException.invalid("reason", "must be 1 to 500 characters");
        String grantId = f.string("grantId", false);
        if (grantId != null && !EventId.isValid(grantId)) {
            throw ApiException.invalid("grantId", "must be 1 to 128 printable characters without spaces");
        }
        // without a grantId the grant is not idempotent; with one, a retry returns the first result
        String key = grantId != null ? grantId : UUID.randomUUID().toString();
        String hash = dev.credits.core.domain.Hashes.sha256("grant|" + key + "|" + micros + "|" + reason);
        LedgerEntry entry = new LedgerEntry(new AccountId(id), "grant#" + key, EntryType.GRANT, micros, now(), null,
                key, null, null, null, null, null, Map.of(), null, reason, hash);
        return switch (store.post(entry)) {
            case ChargeOutcome.Charged c -> Response.json(201, grantResult(c.entry(), c.after(), false));
            case ChargeOutcome.Replayed rp -> Response.json(200, grantResult(rp.entry(), rp.current(), true));
            case ChargeOutcome.IdempotencyConflict c -> throw new ApiException(409, "idempotency_conflict",
                    "grantId '" + key + "' was already used with a different body.", Map.of("field", "grantId"), null);
            case ChargeOutcome.HardLimitReached h -> throw new IllegalStateException("a grant is never limited");
            case ChargeOutcome.AccountClosed c -> throw ApiException.closed(id);
            case ChargeOutcome.AccountNotFound n -> throw ApiException.notFound(id);
            case ChargeOutcome.ExtraConditionFailed x -> throw new IllegalStateException("no extra items were posted");
            case ChargeOutcome.BalanceCapExceeded x -> throw ApiException.invalid("credits", "would take the balance past the largest balance an account may hold");
        };
    }

    private static Map<String, Object> grantResult(LedgerEntry e, Account a, boolean replay) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accountId", e.accountId().value());
        m.put("replayed", replay);
        m.put("grantId", e.eventId());
        m.putAll(Views.entry(e));
        if (a != null) {
            m.put("balance", Credits.toCredits(a.balance()));
            m.put("available", Credits.toCredits(a.available()));
        }
        return m;
    }

    private APIGatewayV2HTTPResponse close(Request r) {
        String id = r.accountId();
        r.caller().require(id, Caller.Role.OWNER, Caller.Role.ADMIN);
        String body = r.rawBody();
        if (!body.isBlank()) new Fields(r.jsonBody(MAX_BODY_BYTES)).only(Set.of());
        return switch (store.close(new AccountId(id))) {
            case Outcomes.Close.Closed c -> {
                // a closed account gets no more alerts: drop its email subscription
                AlertStore.SubscriptionState st = alerts.subscriptionState(c.account().id());
                if (st.current() != null) {
                    subscriptions.unsubscribe(st.current().arn(), r.requestId());
                    alerts.recordSubscription(c.account().id(), null);
                }
                Map<String, Object> m = new LinkedHashMap<>(Views.account(c.account()));
                m.put("forfeited", Credits.toCredits(-c.forfeit().amount()));
                yield Response.json(200, m);
            }
            case Outcomes.Close.AlreadyClosed c -> Response.json(200, Views.account(c.account()));
            case Outcomes.Close.NotFound n -> throw ApiException.notFound(id);
        };
    }
}
