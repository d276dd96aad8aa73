package dev.credits.core.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader and writer over jackson-core's streaming API (no data binding, no reflection).
 *
 * <p>Every number is read exactly as a {@link BigDecimal}; objects keep their key order; duplicate keys
 * and deep nesting are refused. JSON {@code null} is {@link #NULL} so that "absent" and "null" differ.
 */
public final class Json {
    /** The JSON literal {@code null}. */
    public static final Object NULL = new Object() {
        @Override public String toString() { return "null"; }
    };

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(16)
                    .maxNumberLength(40)
                    .maxStringLength(64 * 1024)
                    .build())
            .build();

    private Json() {}

    /** Thrown for any text that is not one well-formed JSON value within our limits. */
    public static final class MalformedJsonException extends Exception {
        public MalformedJsonException(String message) { super(message); }
    }

    /** Parses one JSON value; trailing content is an error. */
    public static Object parse(String text) throws MalformedJsonException {
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken first = p.nextToken();
            if (first == null) throw new MalformedJsonException("empty body");
            Object value = read(p, first);
            if (p.nextToken() != null) throw new MalformedJsonException("trailing content after the JSON value");
            return value;
        } catch (MalformedJsonException e) {
            throw e;
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            throw new MalformedJsonException("a number, a string or the nesting is beyond the limits");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            var at = e.getLocation();
            throw new MalformedJsonException("malformed JSON" + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()));
        } catch (IOException | RuntimeException e) {
            throw new MalformedJsonException("malformed JSON");
        }
    }

    /** Parses a JSON object; anything else is an error. */
    public static Map<String, Object> parseObject(String text) throws MalformedJsonException {
        Object v = parse(text);
        if (!(v instanceof Map)) throw new MalformedJsonException("the body must be a JSON object");
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) v;
        return m;
    }

    private static Object read(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                JsonToken k;
                while ((k = p.nextToken()) != JsonToken.END_OBJECT) {
                    String name = p.currentName();
                    m.put(name, read(p, p.nextToken()));
                }
                yield m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                JsonToken e;
                while ((e = p.nextToken()) != JsonToken.END_ARRAY) l.add(read(p, e));
                yield l;
            }
            case VALUE_STRING -> p.getText();
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> new BigDecimal(p.getText());
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> NULL;
            default -> throw new IOException("unexpected token " + t);
        };
    }

    /** Writes a value built of Map, List, String, Number (BigDecimal, Long, Integer), Boolean, null/NULL. */
    public static String write(Object value) {
        StringWriter w = new StringWriter(256);
        try (JsonGenerator g = FACTORY.createGenerator(w)) {
            writeValue(g, value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return w.toString();
    }

    private static void writeValue(JsonGenerator g, Object v) throws IOException {
        switch (v) {
            case null -> g.writeNull();
            case Map<?, ?> m -> {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    g.writeFieldName(String.valueOf(e.getKey()));
                    writeValue(g, e.getValue());
                }
                g.writeEndObject();
            }
            case List<?> l -> {
                g.writeStartArray();
                for (Object o : l) writeValue(g, o);
                g.writeEndArray();
            }
            case String s -> g.writeString(s);
            case BigDecimal d -> g.writeNumber(d.toPlainString());
            case Long l -> g.writeNumber(l);
            case Integer i -> g.writeNumber(i);
            case Boolean b -> g.writeBoolean(b);
            default -> {
                if (v == NULL) g.writeNull();
                else g.writeString(v.toString());
            }
        }
    }
}
