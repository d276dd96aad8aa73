package dev.credits.topups;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import com.stripe.model.checkout.Session;
import com.stripe.net.RequestOptions;
import com.stripe.param.checkout.SessionCreateParams;
import dev.credits.core.domain.Account;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.AccountStatus;
import dev.credits.core.domain.EventId;
import dev.credits.core.http.ApiException;
import dev.credits.core.http.Caller;
import dev.credits.core.http.Fields;
import dev.credits.core.http.HttpFunction;
import dev.credits.core.http.Request;
import dev.credits.core.http.Response;
import dev.credits.core.log.Log;
import dev.credits.core.store.Clients;
import dev.credits.core.store.CreditsStore;
import dev.credits.core.store.StoreConfig;
import dev.credits.payments.PaymentsConfig;
import dev.credits.payments.Secrets;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * {@code POST /v1/accounts/{id}/topups}: the owner asks for N credits; the price is computed here from the configured
 * price per credit, and a Stripe Checkout Session (payment mode) is created through {@link StripeClient}. Credits land
 * only when the webhook hears that Stripe took the payment.
 */
public final class TopupsHandler extends HttpFunction {
    static final int MAX_BODY_BYTES = 4 * 1024;

    private final CreditsStore store;
    private final PaymentsConfig config;
    /** The Stripe client for the current API key (built again when the key is rotated; see {@link Secrets}). */
    private final java.util.function.Supplier<StripeClient> stripe;
    private final String successUrl;
    private final String cancelUrl;

    public TopupsHandler() {
        this(System.getenv());
    }

    public TopupsHandler(Map<String, String> env) {
        this(Clients.dynamo(StoreConfig.fromEnv(env)), StoreConfig.fromEnv(env), PaymentsConfig.fromEnv(env),
                Secrets.derived(Secrets.of(env, "STRIPE_API_KEY", Clock.systemUTC()), key -> stripe(key, env)),
                require(env, "TOPUP_SUCCESS_URL"), require(env, "TOPUP_CANCEL_URL"), Clock.systemUTC());
    }

    public TopupsHandler(DynamoDbClient dynamo, StoreConfig store, PaymentsConfig config, StripeClient stripe,
                         String successUrl, String cancelUrl, Clock clock) {
        this(dynamo, store, config, () -> stripe, successUrl, cancelUrl, clock);
    }

    private TopupsHandler(DynamoDbClient dynamo, StoreConfig store, PaymentsConfig config,
                          java.util.function.Supplier<StripeClient> stripe, String successUrl, String cancelUrl, Clock clock) {
        this.store = new CreditsStore(dynamo, store, clock);
        this.config = config;
        this.stripe = stripe;
        this.successUrl = successUrl;
        this.cancelUrl = cancelUrl;
    }

    /**
     * A StripeClient with the key from Secrets Manager (deployed) and an explicit API base (stripe-mock locally).
     * Its whole budget (two attempts of at most 3 s waiting for an answer, and stripe-java's sub-second backoff) fits
     * in the function's 10 s Timeout with room for the account read, so a Stripe that does not answer becomes our
     * 503 with Retry-After; three attempts of 8 s ran past it, and Lambda stopped the function before it could answer.
     */
    static StripeClient stripe(String apiKey, Map<String, String> env) {
        StripeClient.StripeClientBuilder b = StripeClient.builder()
                .setApiKey(apiKey)
                .setConnectTimeout(2_000)
                .setReadTimeout(3_000)
                .setMaxNetworkRetries(1);
        String base = env.get("STRIPE_API_BASE");
        if (base != null && !base.isBlank()) b.setApiBase(base);
        return b.build();
    }

    private static String require(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) throw new IllegalStateException(name + " is not set");
        return v;
    }

    @Override
    protected APIGatewayV2HTTPResponse route(Request r) {
        return switch (r.routeKey()) {
            case "POST /v1/accounts/{id}/topups" -> start(r);
            case "GET /v1/topups/options" -> options(r);
            default -> throw noRoute(r);
        };
    }

    /** What a top-up may be and costs, so a page can show the price before paying. Any signed-in caller. */
    private APIGatewayV2HTTPResponse options(Request r) {
        r.caller();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("currency", config.currency());
        body.put("unitAmount", config.unitAmountMinor());
        body.put("minCredits", config.minCredits());
        body.put("maxCredits", config.maxCredits());
        java.util.List<Long> presets = new java.util.ArrayList<>();
        for (long p : new long[]{10, 25, 50, 100, 250, 500, 1000}) {
            if (p >= config.minCredits() && p <= config.maxCredits()) presets.add(p);
        }
        body.put("presets", presets);
        return Response.json(200, body);
    }

    private APIGatewayV2HTTPResponse start(Request r) {
        String id = r.accountId();
        r.caller().require(id, Caller.Role.OWNER);
        Fields f = new Fields(r.jsonBody(MAX_BODY_BYTES)).only(Set.of("credits", "topupId"));
        long credits = f.count("credits", true, config.minCredits(), config.maxCredits());
        String topupId = f.string("topupId", false);
        if (topupId != null && !EventId.isValid(topupId)) {
            throw ApiException.invalid("topupId", "must be 1 to 128 printable characters without spaces");
        }
        Account account = store.get(new AccountId(id)).orElseThrow(() -> ApiException.notFound(id));
        if (account.status() == AccountStatus.CLOSED) throw ApiException.closed(id);

        long amount = config.amountFor(credits);
        SessionCreateParams params = SessionCreateParams.builder()
                .setMode(SessionCreateParams.Mode.PAYMENT)
                .setClientReferenceId(id)
                .setSuccessUrl(successUrl)
                .setCancelUrl(cancelUrl)
                .putMetadata("accountId", id)
                .putMetadata("credits", Long.toString(credits))
                .setPaymentIntentData(SessionCreateParams.PaymentIntentData.builder()
                        .putMetadata("accountId", id)
                        .putMetadata("credits", Long.toString(credits))
                        .build())
                .addLineItem(SessionCreateParams.LineItem.builder()
                        .setQuantity(credits)
                        .setPriceData(SessionCreateParams.LineItem.PriceData.builder()
                                .setCurrency(config.currency())
                                .setUnitAmount(config.unitAmountMinor())
                                .setProductData(SessionCreateParams.LineItem.PriceData.ProductData.builder()
                                        .setName("Credits").setDescription("Prepaid credits for account " + id).build())
                                .build())
                        .build())
                .build();
        // the same topupId retried gets the same session from Stripe; without one, each call is a new purchase
        String idempotencyKey = "topup-" + id + "-" + (topupId != null ? topupId : UUID.randomUUID().toString());
        Session session;
        try {
            session = stripe.get().v1().checkout().sessions().create(params, RequestOptions.builder().setIdempotencyKey(idempotencyKey).build());
        } catch (StripeException e) {
            Log.warn("stripe_checkout_failed", r.requestId(), "account", id, "stripeCode", e.getCode(), "status", e.getStatusCode());
            boolean ours = e.getStatusCode() != null && e.getStatusCode() >= 400 && e.getStatusCode() < 500 && e.getStatusCode() != 429;
            if (ours) throw new ApiException(502, "payment_provider_error", "Stripe refused the checkout request.");
            throw new ApiException(503, "unavailable", "Stripe is briefly unavailable; retry with the same topupId.", Map.of(), 2);
        }
        Log.info("checkout_created", r.requestId(), "account", id, "credits", credits, "session", session.getId());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("accountId", id);
        body.put("credits", credits);
        body.put("amount", amount);
        body.put("currency", config.currency());
        body.put("checkoutSessionId", session.getId());
        body.put("url", session.getUrl());
        return Response.json(201, body);
    }
}
