package dev.credits.core.pricing;

import dev.credits.core.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** Reads the price book document ({@code pricebook.json} on the classpath, deployed with every function). */
public final class PriceBookLoader {
    public static final String RESOURCE = "/pricebook.json";

    private PriceBookLoader() {}

    public static PriceBook fromClasspath() {
        try (InputStream in = PriceBookLoader.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("price book " + RESOURCE + " is missing from the package");
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the price book", e);
        }
    }

    @SuppressWarnings("unchecked")
    public static PriceBook parse(String text) {
        Map<String, Object> doc;
        try {
            doc = Json.parseObject(text);
        } catch (Json.MalformedJsonException e) {
            throw new IllegalArgumentException("price book is not valid JSON: " + e.getMessage());
        }
        String version = (String) require(doc, "version");
        Map<String, Object> ai = (Map<String, Object>) require(doc, "aiModels");
        Map<String, PriceBook.ModelRate> models = new HashMap<>();
        ai.forEach((model, v) -> {
            if (!(v instanceof Map)) throw new IllegalArgumentException("price book: model '" + model + "' must be a JSON object");
            Map<String, Object> r = (Map<String, Object>) v;
            models.put(model, new PriceBook.ModelRate((BigDecimal) require(r, "inputPer1M"),
                    (BigDecimal) require(r, "outputPer1M")));
        });
        Map<String, Object> wu = (Map<String, Object>) require(doc, "workloadUnits");
        String defaultKind = (String) require(wu, "default");
        Map<String, Object> kinds = (Map<String, Object>) require(wu, "kinds");
        Map<String, PriceBook.UnitRate> units = new HashMap<>();
        kinds.forEach((kind, v) -> units.put(kind, !(v instanceof Map) ? failKind(kind) :
                new PriceBook.UnitRate((BigDecimal) require((Map<String, Object>) v, "perUnit"))));
        return new PriceBook(version, models, defaultKind, units);
    }

    private static PriceBook.UnitRate failKind(String kind) {
        throw new IllegalArgumentException("price book: unit kind '" + kind + "' must be a JSON object");
    }

    private static Object require(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v == null || v == Json.NULL) throw new IllegalArgumentException("price book: '" + key + "' is missing");
        Class<?> expected = switch (key) {
            case "version", "default" -> String.class;
            case "aiModels", "workloadUnits", "kinds" -> Map.class;
            default -> BigDecimal.class;
        };
        if (!expected.isInstance(v)) {
            throw new IllegalArgumentException("price book: '" + key + "' must be a " + (expected == BigDecimal.class
                    ? "number" : expected == String.class ? "string" : "JSON object"));
        }
        return v;
    }
}
