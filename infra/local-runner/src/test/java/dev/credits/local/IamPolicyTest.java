package dev.credits.local;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each function's own IAM policy names its tables, indexes, stream, topic, queue and secret: no wildcard action, no
 * wildcard resource, no broad SAM policy template. (SAM adds AWS's managed stream-reading policy to the two
 * stream-fed functions' roles by itself; that one is not written here.)
 */
class IamPolicyTest {

    @Test
    @SuppressWarnings("unchecked")
    void noFunctionPolicyHasAWildcard() {
        Map<String, Object> doc = (Map<String, Object>) new org.yaml.snakeyaml.Yaml().load(read());
        List<String> problems = new ArrayList<>();
        ((Map<String, Object>) doc.get("Resources")).forEach((id, r) -> {
            Map<String, Object> res = (Map<String, Object>) r;
            if (!"AWS::Serverless::Function".equals(res.get("Type"))) return;
            Object policies = ((Map<String, Object>) res.get("Properties")).get("Policies");
            if (policies == null) { problems.add(id + ": no policy"); return; }
            for (Object p : (List<Object>) policies) {
                if (!(p instanceof Map<?, ?> m) || !m.containsKey("Statement")) { problems.add(id + ": a policy template or managed policy: " + p); continue; }
                for (Object st : (List<Object>) m.get("Statement")) {
                    Map<String, Object> statement = (Map<String, Object>) st;
                    for (Object a : list(statement.get("Action"))) {
                        if (String.valueOf(a).contains("*")) problems.add(id + ": wildcard action " + a);
                    }
                    for (Object res2 : list(statement.get("Resource"))) {
                        String text = String.valueOf(res2);
                        if (text.contains("*")) problems.add(id + ": wildcard resource " + text);
                    }
                }
            }
        });
        assertEquals(List.of(), problems);
    }

    private static List<Object> list(Object o) {
        return o instanceof List<?> l ? new ArrayList<>(l) : List.of(o);
    }

    /** template.yaml with CloudFormation tags read as plain text values, enough to see every string. */
    private static String read() {
        try {
            String yaml = java.nio.file.Files.readString(Template.locate());
            return yaml.replaceAll("!([A-Za-z]+)(\\s)", "$2");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
