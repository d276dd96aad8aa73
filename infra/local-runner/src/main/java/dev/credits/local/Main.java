package dev.credits.local;

import java.util.concurrent.CountDownLatch;

/**
 * {@code make run}: starts the local stack on 127.0.0.1:$PORT (default 3000). Data lives in memory, in the DynamoDB
 * stand-in (moto), and is gone when the runner stops: moto keeps nothing on disk, and DynamoDB Local, which did,
 * may not be used. {@code DEMO=1} seeds an account with six weeks of usage at every start instead.
 */
public final class Main {
    public static void main(String[] args) throws InterruptedException {
        int port = Integer.parseInt(env("PORT", "3000"));
        if (!env("DATA_DIR", "").isBlank()) {
            System.err.println("DATA_DIR is ignored: the DynamoDB stand-in (moto) keeps data in memory only; "
                    + "DEMO=1 seeds a demo account at each start");
        }
        String sns = env("SNS_ENDPOINT", "");
        String stripeBase = env("STRIPE_API_BASE", "");
        LocalRunner runner;
        try {
            runner = LocalRunner.start(new LocalRunner.Options("127.0.0.1", port,
                100, LocalJwt.fromEnv(), sns.isBlank() ? null : sns,
                stripeBase.isBlank() ? null : stripeBase,
                env("STRIPE_API_KEY", LocalRunner.Options.LOCAL_STRIPE_KEY),
                env("STRIPE_WEBHOOK_SECRET", LocalRunner.Options.LOCAL_WEBHOOK_SECRET), overrides()));
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null) root = root.getCause();
            System.err.println("the local runner did not start: " + root + (root instanceof java.net.BindException
                    ? " (is another runner on port " + port + "? set PORT=...)" : ""));
            System.exit(1);
            return;
        }
        if (env("DEMO", "").equals("1")) {
            System.err.println("seeding the demo account (six weeks of usage) ...");
            DemoSeed.seed(runner.dynamo(), dev.credits.core.store.StoreConfig.fromEnv(runner.functionEnv()));
            runner.drainStreams();
            System.err.println("demo account ready: sign in as the owner of 'demo'");
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            runner.close();
            stop.countDown();
        }));
        String base = runner.baseUrl();
        System.err.println("""

                credits service running at %s  (DynamoDB stand-in, moto, at %s, data in memory; alerts: %s; Stripe API: %s)
                billing console: %s/  (local sign-in: pick an account and a role)

                  ADMIN=$(make -s token ROLE=admin)
                  curl -s -X POST %s/v1/accounts -H "Authorization: Bearer $ADMIN" \\
                       -H 'content-type: application/json' -d '{"accountId":"acme","softLimit":5}'
                  curl -s -X POST %s/v1/accounts/acme/grants -H "Authorization: Bearer $ADMIN" \\
                       -H 'content-type: application/json' -d '{"credits":10,"reason":"welcome"}'
                  METER=$(make -s token ROLE=metering)
                  curl -s -X POST %s/v1/accounts/acme/usage -H "Authorization: Bearer $METER" \\
                       -H 'content-type: application/json' \\
                       -d '{"eventId":"evt-1","type":"ai_tokens","model":"gpt-4o-mini","inputTokens":1200,"outputTokens":350}'
                  OWNER=$(make -s token ROLE=owner ACCOUNT=acme)
                  curl -s %s/v1/accounts/acme/usage -H "Authorization: Bearer $OWNER"

                Ctrl-C stops it.
                """.formatted(base, runner.dynamoEndpoint(),
                sns.isBlank() ? "logged, not sent (set SNS_ENDPOINT to publish)" : "published to " + sns,
                stripeBase.isBlank() ? "api.stripe.com (set STRIPE_API_BASE for stripe-mock)" : stripeBase, base, base, base, base, base));
        stop.await();
    }

    /** Function settings that may be given to the runner's environment (see template.yaml's parameters). */
    private static java.util.Map<String, String> overrides() {
        java.util.Map<String, String> m = new java.util.HashMap<>();
        for (String k : java.util.List.of("PLAN_CREDITS", "TOPUP_CURRENCY", "TOPUP_UNIT_AMOUNT", "TOPUP_MIN_CREDITS", "TOPUP_MAX_CREDITS")) {
            String v = System.getenv(k);
            if (v != null && !v.isBlank()) m.put(k, v);
        }
        if (!m.containsKey("PLAN_CREDITS")) m.put("PLAN_CREDITS", "price_local_starter=1000,price_local_pro=5000");
        return m;
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
