package dev.credits.local;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What the template deploys is what Maven built: each function's CodeUri zip exists, holds its handler class and the
 * price book, and the usage function (the hot path) carries no Stripe, SNS or DynamoDB Local code and stays small.
 */
class PackagingTest {
    private static final Path ROOT = Template.locate().getParent();

    @Test
    void everyFunctionInTheTemplateHasABuiltPackageWithItsHandler() throws IOException {
        Template t = Template.read(ROOT.resolve("template.yaml"));
        String yaml = Files.readString(ROOT.resolve("template.yaml"));
        for (Template.Function f : t.functions()) {
            String codeUri = yaml.lines().dropWhile(l -> !l.trim().equals(f.logicalId() + ":")).filter(l -> l.trim().startsWith("CodeUri:"))
                    .findFirst().orElseThrow().trim().substring("CodeUri:".length()).trim();
            Path zip = ROOT.resolve(codeUri);
            assertTrue(Files.isRegularFile(zip), f.logicalId() + ": " + zip + " was not built");
            List<String> names = names(zip);
            assertTrue(names.contains(f.handlerClass().replace('.', '/') + ".class"), f.logicalId() + " lacks its handler class");
            assertTrue(names.stream().anyMatch(n -> n.startsWith("lib/credits-core-")), f.logicalId() + " lacks the core");
            assertTrue(classesInJars(zip).contains("pricebook.json"), f.logicalId() + " lacks the price book");
        }
    }

    @Test
    void theUsagePackageCarriesNoStripeSnsOrEmulatorCodeAndIsUnderTenMegabytes() throws IOException {
        Path zip = ROOT.resolve("functions/usage/target/lambda.zip");
        assertTrue(Files.size(zip) < 10L * 1024 * 1024, "usage package is " + Files.size(zip) + " bytes");
        List<String> all = new ArrayList<>(names(zip));
        all.addAll(classesInJars(zip));
        for (String forbidden : List.of("com/stripe/", "software/amazon/awssdk/services/sns/", "software/amazon/dynamodb/services/local",
                "com/almworks/sqlite4java", "org/yaml/snakeyaml")) {
            assertTrue(all.stream().noneMatch(n -> n.startsWith(forbidden)), "usage package contains " + forbidden);
        }
    }

    @Test
    void onlyTheTopupsFunctionCarriesStripeJava() throws IOException {
        Template t = Template.read(ROOT.resolve("template.yaml"));
        for (Template.Function f : t.functions()) {
            String module = switch (f.logicalId()) {
                case "UsageFunction", "HoldsFunction", "HoldExpiryFunction" -> "usage";
                case "AccountsFunction" -> "accounts";
                case "HistoryFunction" -> "history";
                case "AggregatorFunction" -> "aggregator";
                case "AlertFunction" -> "alerts";
                case "TopupsFunction" -> "topups";
                case "StripeWebhookFunction" -> "webhook";
                default -> throw new AssertionError("a new function: say here whether it may carry stripe-java: " + f.logicalId());
            };
            boolean hasStripe = names(ROOT.resolve("functions/" + module + "/target/lambda.zip")).stream()
                    .anyMatch(n -> n.startsWith("lib/stripe-java-"));
            assertEquals(module.equals("topups"), hasStripe, module + (hasStripe ? " carries" : " lacks") + " stripe-java");
        }
    }

    private static List<String> names(Path zip) throws IOException {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            return z.stream().map(ZipEntry::getName).toList();
        }
    }

    /** Entry names inside the jars under lib/. */
    private static List<String> classesInJars(Path zip) throws IOException {
        List<String> out = new ArrayList<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (ZipEntry e : z.stream().filter(e -> e.getName().startsWith("lib/") && e.getName().endsWith(".jar")).toList()) {
                try (ZipInputStream in = new ZipInputStream(z.getInputStream(e))) {
                    for (ZipEntry inner; (inner = in.getNextEntry()) != null; ) out.add(inner.getName());
                }
            }
        }
        return out;
    }

    @Test
    void everyRouteOfTheSpecIsDeclaredInTheTemplate() {
        Template t = Template.read(ROOT.resolve("template.yaml"));
        List<String> routes = t.functions().stream().flatMap(f -> f.routes().stream()).map(Template.Route::routeKey).toList();
        for (String r : List.of("POST /v1/accounts", "GET /v1/accounts/{id}", "PUT /v1/accounts/{id}/limits",
                "POST /v1/accounts/{id}/usage", "GET /v1/accounts/{id}/usage", "GET /v1/accounts/{id}/usage/summary",
                "POST /v1/accounts/{id}/grants", "POST /v1/accounts/{id}/close", "POST /v1/accounts/{id}/topups",
                "POST /v1/stripe/webhook")) {
            assertTrue(routes.contains(r), "template lacks " + r);
        }
        assertEquals(routes.size(), routes.stream().distinct().count(), "a route is declared twice");
        for (Template.Route r : t.functions().stream().flatMap(f -> f.routes().stream()).toList()) {
            assertEquals(!r.routeKey().equals("POST /v1/stripe/webhook"), r.authorized(),
                    r.routeKey() + ": every route but the Stripe webhook is behind the JWT authorizer");
        }
    }
}
