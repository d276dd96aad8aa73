package dev.credits.local;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;

import java.util.Locale;

/**
 * Which AWS emulators the contract tests drive the stack over: {@code local} (default: moto server for SNS/SQS) or
 * {@code localstack} (-Dcontract.backend=localstack: SNS and SQS in a LocalStack container started through
 * Testcontainers). DynamoDB and its streams are the moto stand-in on both: LocalStack's DynamoDB runs DynamoDB Local
 * inside, which may not be used (the vendor's own terms, not an open-source licence), so it is never started.
 * Stripe is stripe-mock either way.
 */
final class StackBackend {
    static final String PROPERTY = "contract.backend";

    /**
     * The last LocalStack release that starts without an auth token (4.14.0, 26 Feb 2026): from 2026.03 on, `latest`
     * and every newer tag exit at startup without LOCALSTACK_AUTH_TOKEN. Pinned so the run does not change under us.
     */
    static final String COMMUNITY_IMAGE = "localstack/localstack:4.14.0";
    /** With LOCALSTACK_AUTH_TOKEN set, the licensed image of the same release. */
    static final String PRO_IMAGE = "localstack/localstack-pro:4.14.0";

    static final String SKIPPED = "Docker engine not available: the LocalStack run of the contract tests is skipped";
    private static LocalStackContainer container;
    private static boolean said;
    private static Boolean dockerAvailable;

    private StackBackend() {}

    static boolean localstack() {
        String b = System.getProperty(PROPERTY, "local").trim().toLowerCase(Locale.ROOT);
        return switch (b) {
            case "local", "" -> false;
            case "localstack" -> true;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + " must be local or localstack, not " + b);
        };
    }

    static synchronized boolean dockerAvailable() {
        if (dockerAvailable == null) dockerAvailable = DockerClientFactory.instance().isDockerAvailable();
        return dockerAvailable;
    }

    /** -Dcontract.localstack.image wins; else the pro image when a token is set, the community one when not. */
    static String image() {
        String explicit = System.getProperty("contract.localstack.image", "");
        if (!explicit.isBlank()) return explicit;
        return authToken() == null ? COMMUNITY_IMAGE : PRO_IMAGE;
    }

    private static String authToken() {
        String t = System.getenv("LOCALSTACK_AUTH_TOKEN");
        return t == null || t.isBlank() ? null : t.trim();
    }

    /**
     * A LocalStack that is already running (-Dcontract.localstack.endpoint=http://127.0.0.1:4566, e.g. from
     * {@code localstack start}), used as it is instead of a container of our own; null when not given.
     */
    static String givenEndpoint() {
        String e = System.getProperty("contract.localstack.endpoint", "");
        return e.isBlank() ? null : e.trim();
    }

    /** The LocalStack endpoint (SNS and SQS answer on it), the container started on first use. */
    static synchronized String endpoint() {
        if (givenEndpoint() != null) return givenEndpoint();
        if (container == null) {
            System.err.println("starting LocalStack (" + image() + ") through Testcontainers ...");
            LocalStackContainer c = new LocalStackContainer(DockerImageName.parse(image())
                    .asCompatibleSubstituteFor("localstack/localstack"))
                    .withServices("sns", "sqs");
            String token = authToken();
            if (token != null) c.withEnv("LOCALSTACK_AUTH_TOKEN", token);
            c.start();
            Runtime.getRuntime().addShutdownHook(new Thread(c::stop));
            container = c;
            System.err.println("LocalStack at " + c.getEndpoint());
        }
        return container.getEndpoint().toString();
    }

    /** Surefire's console names skipped tests without the reason: say it once. */
    private static synchronized void sayOnce() {
        if (said) return;
        said = true;
        System.err.println(SKIPPED + " (every @ContractTest class is reported as skipped; see the README to run it)");
    }

    /**
     * Skips a whole test class, reported as skipped with the reason, when the run asks for LocalStack and no Docker
     * engine answers. Decided per class, before its {@code @BeforeAll} or any field touches the stack.
     */
    static final class DockerCondition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            if (!localstack()) return ConditionEvaluationResult.enabled("local emulators: no Docker needed");
            if (givenEndpoint() != null) return ConditionEvaluationResult.enabled("LocalStack at " + givenEndpoint());
            if (dockerAvailable()) return ConditionEvaluationResult.enabled("Docker engine available: LocalStack " + image());
            sayOnce();
            return ConditionEvaluationResult.disabled(SKIPPED);
        }
    }
}
