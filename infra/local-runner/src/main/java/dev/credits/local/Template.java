package dev.credits.local;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code template.yaml}: the tables, functions, HTTP routes and stream subscriptions the local runner builds,
 * so that the runner has no second, hand-kept copy of any of them. CloudFormation short tags ({@code !Ref},
 * {@code !GetAtt}, {@code !Sub}) become their long forms ({@code {"Ref": x}}, {@code {"Fn::GetAtt": x}}).
 */
public final class Template {
    public record Table(String logicalId, Map<String, Object> properties) {}

    public record Route(String method, String path, boolean authorized) {
        public String routeKey() { return method + " " + path; }
    }

    /** A DynamoDB stream subscription: which table feeds this function, and the filter patterns. */
    public record StreamSource(String tableLogicalId, List<String> filterPatterns) {}

    public record Function(String logicalId, String handlerClass, Map<String, Object> environment,
                           List<Route> routes, List<StreamSource> streams, List<String> schedules) {}

    private final Map<String, Object> doc;

    private Template(Map<String, Object> doc) {
        this.doc = doc;
    }

    public static Template read(Path file) {
        try {
            Yaml yaml = new Yaml(new CfnConstructor());
            Object loaded = yaml.load(Files.readString(file));
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) loaded;
            return new Template(m);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
    }

    /** Finds template.yaml in this directory or a parent, so the runner works from any module folder. */
    public static Path locate() {
        String explicit = System.getenv("CREDITS_TEMPLATE");
        if (explicit != null && !explicit.isBlank()) return Path.of(explicit);
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("template.yaml");
            if (Files.isRegularFile(candidate)) return candidate;
            dir = dir.getParent();
        }
        throw new IllegalStateException("template.yaml not found in this directory or any parent");
    }

    /** The Resources section as read ({@code !Ref}/{@code !GetAtt} as {@code Ref}/{@code Fn::GetAtt} maps), for checks. */
    Map<String, Object> resources() { return map(doc.get("Resources")); }

    /** Globals.Function: what SAM merges into every function. */
    Map<String, Object> functionGlobals() { return map(map(doc.get("Globals")).get("Function")); }

    public List<Table> tables() {
        List<Table> out = new ArrayList<>();
        resources().forEach((id, r) -> {
            Map<String, Object> res = map(r);
            if ("AWS::DynamoDB::Table".equals(res.get("Type"))) out.add(new Table(id, map(res.get("Properties"))));
        });
        return out;
    }

    /** Parameters with a default, as strings (the local runner deploys with the defaults). */
    public Map<String, String> parameterDefaults() {
        Map<String, String> out = new LinkedHashMap<>();
        map(doc.get("Parameters")).forEach((name, p) -> {
            Object d = map(p).get("Default");
            if (d != null) out.put(name, String.valueOf(d));
        });
        return out;
    }

    /** Logical ids of resources of one type. */
    public List<String> resourcesOfType(String type) {
        List<String> out = new ArrayList<>();
        resources().forEach((id, r) -> {
            if (type.equals(map(r).get("Type"))) out.add(id);
        });
        return out;
    }

    /** Logical ids of the SNS topics. */
    public List<String> topics() {
        List<String> out = new ArrayList<>();
        resources().forEach((id, r) -> {
            if ("AWS::SNS::Topic".equals(map(r).get("Type"))) out.add(id);
        });
        return out;
    }

    public List<Function> functions() {
        Map<String, Object> globals = map(map(doc.get("Globals")).get("Function"));
        Map<String, Object> globalEnv = map(map(globals.get("Environment")).get("Variables"));
        List<Function> out = new ArrayList<>();
        resources().forEach((id, r) -> {
            Map<String, Object> res = map(r);
            if (!"AWS::Serverless::Function".equals(res.get("Type"))) return;
            Map<String, Object> p = map(res.get("Properties"));
            Map<String, Object> env = new LinkedHashMap<>(globalEnv);
            env.putAll(map(map(p.get("Environment")).get("Variables")));
            String handler = String.valueOf(p.get("Handler"));
            String cls = handler.contains("::") ? handler.substring(0, handler.indexOf("::")) : handler;
            List<Route> routes = new ArrayList<>();
            List<StreamSource> streams = new ArrayList<>();
            List<String> schedules = new ArrayList<>();
            map(p.get("Events")).forEach((name, e) -> {
                Map<String, Object> ev = map(e);
                Map<String, Object> ep = map(ev.get("Properties"));
                switch (String.valueOf(ev.get("Type"))) {
                    case "HttpApi" -> {
                        Object auth = map(ep.get("Auth")).get("Authorizer");
                        routes.add(new Route(String.valueOf(ep.get("Method")).toUpperCase(), String.valueOf(ep.get("Path")),
                                !"NONE".equals(auth)));
                    }
                    case "DynamoDB" -> {
                        Object stream = map(ep.get("Stream")).get("Fn::GetAtt");
                        String table = String.valueOf(stream).split("\\.")[0];
                        List<String> patterns = new ArrayList<>();
                        for (Object f : list(map(ep.get("FilterCriteria")).get("Filters"))) {
                            patterns.add(String.valueOf(map(f).get("Pattern")));
                        }
                        streams.add(new StreamSource(table, patterns));
                    }
                    case "Schedule", "ScheduleV2" -> schedules.add(String.valueOf(ep.getOrDefault("ScheduleExpression", ep.get("Schedule"))));
                    default -> { /* other event sources are not run locally */ }
                }
            });
            out.add(new Function(id, cls, env, routes, streams, schedules));
        });
        return out;
    }

    /** A function's Timeout in seconds (its own, else the Globals'; Lambda's default of 3 if neither says). */
    public int timeoutSeconds(String functionLogicalId) {
        Object own = map(map(resources().get(functionLogicalId)).get("Properties")).get("Timeout");
        Object global = map(map(doc.get("Globals")).get("Function")).get("Timeout");
        Object t = own != null ? own : global;
        return t == null ? 3 : Integer.parseInt(String.valueOf(t));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o instanceof Map ? (Map<String, Object>) o : Map.of();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return o instanceof List ? (List<Object>) o : List.of();
    }

    /** Turns {@code !Ref X} into {@code {Ref: X}} and {@code !GetAtt A.B} into {@code {Fn::GetAtt: A.B}}. */
    private static final class CfnConstructor extends SafeConstructor {
        CfnConstructor() {
            super(new LoaderOptions());
            this.yamlMultiConstructors.put("!", new AbstractConstruct() {
                @Override
                public Object construct(Node node) {
                    String tag = node.getTag().getValue().substring(1);
                    String key = tag.equals("Ref") || tag.equals("Condition") ? tag : "Fn::" + tag;
                    Object value = switch (node) {
                        case ScalarNode s -> constructScalar(s);
                        case SequenceNode s -> constructSequence(s);
                        case MappingNode m -> constructMapping(m);
                        default -> null;
                    };
                    return Map.of(key, value);
                }
            });
        }
    }
}
