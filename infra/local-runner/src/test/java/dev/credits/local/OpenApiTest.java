package dev.credits.local;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/** docs/openapi.yaml documents exactly the routes template.yaml deploys, and the local runner serves it. */
class OpenApiTest {
    private static final Path ROOT = Template.locate().getParent();

    @Test
    @SuppressWarnings("unchecked")
    void theDocumentAndTheTemplateHaveTheSameRoutes() throws Exception {
        Map<String, Object> doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(ROOT.resolve("docs/openapi.yaml")));
        assertEquals("3.1.0", doc.get("openapi"));
        Set<String> documented = new TreeSet<>();
        ((Map<String, Object>) doc.get("paths")).forEach((path, ops) ->
                ((Map<String, Object>) ops).keySet().forEach(m -> documented.add(m.toUpperCase() + " " + path)));
        Set<String> deployed = new TreeSet<>();
        Template.read(ROOT.resolve("template.yaml")).functions().forEach(f -> f.routes().forEach(r -> deployed.add(r.routeKey())));
        assertEquals(deployed, documented);
    }

    @Test
    void theRunnerServesIt() {
        var r = java.net.http.HttpClient.newHttpClient();
        try {
            var resp = r.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(runner().baseUrl() + "/openapi.yaml")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, resp.statusCode());
            assertTrue(resp.body().startsWith("openapi: 3.1.0"));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
