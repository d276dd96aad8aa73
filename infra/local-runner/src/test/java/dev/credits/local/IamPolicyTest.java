package dev.credits.local;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.credits.local.Template.list;
import static dev.credits.local.Template.map;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Each function runs under its own execution role, written in the template, that names the tables, indexes, stream,
 * topic, secret, dead-letter queue and log group it uses: no wildcard action or resource, no managed policy.
 * <p>
 * Read with SAM's transform in mind: a function without {@code Role} gets a role SAM writes, with
 * AWSLambdaBasicExecutionRole (logs on every log group) and, for a DynamoDB event, AWSLambdaDynamoDBExecutionRole
 * (every stream): both Resource "*", and neither visible in this file. So every function must name a role of its own
 * here, and SAM then adds no policy at all (infra/scripts/check-iam.py checks the transformed template the same way).
 * One "*" is allowed, and only implicitly: a log group's Arn attribute ends in ":*", the log streams Lambda names
 * at run time inside that one group; logs actions may name only the function's own log group.
 */
class IamPolicyTest {
    private static final Template TEMPLATE = Template.read(Template.locate());
    private static final Set<String> STREAM_READ = Set.of("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator");
    private static final Set<String> LOG_WRITE = Set.of("logs:CreateLogStream", "logs:PutLogEvents");

    private static Map<String, Object> resources() { return TEMPLATE.resources(); }

    private static Map<String, Map<String, Object>> ofType(String type) {
        Map<String, Map<String, Object>> out = new java.util.LinkedHashMap<>();
        resources().forEach((id, r) -> { if (type.equals(map(r).get("Type"))) out.put(id, map(map(r).get("Properties"))); });
        return out;
    }

    /** The logical id in {@code !GetAtt Id.Arn} (or {@code .StreamArn}, ...), or null when the value is anything else. */
    private static String getAtt(Object value, String attribute) {
        Object g = map(value).get("Fn::GetAtt");
        String text = g instanceof List<?> l ? l.get(0) + "." + l.get(1) : g instanceof String s ? s : null;
        return text != null && text.endsWith("." + attribute) ? text.substring(0, text.length() - attribute.length() - 1) : null;
    }

    @Test
    void everyFunctionHasARoleOfItsOwnWrittenHereSoSamAddsNoManagedPolicy() {
        List<String> problems = new ArrayList<>();
        Map<String, Object> globals = TEMPLATE.functionGlobals();
        for (String key : List.of("Role", "Policies", "PermissionsBoundary")) {
            if (globals.containsKey(key)) problems.add("Globals.Function sets " + key + ": each function's own role says what it may do");
        }
        Map<String, Map<String, Object>> roles = ofType("AWS::IAM::Role");
        Map<String, String> roleUsedBy = new HashMap<>();
        ofType("AWS::Serverless::Function").forEach((fn, p) -> {
            String role = getAtt(p.get("Role"), "Arn");
            if (role == null) {
                problems.add(fn + ": no Role of its own (SAM would write one with AWSLambdaBasicExecutionRole, Resource \"*\")");
            } else if (!roles.containsKey(role)) {
                problems.add(fn + ": Role " + role + " is not an AWS::IAM::Role of this template");
            } else {
                String other = roleUsedBy.put(role, fn);
                if (other != null) problems.add(role + " is shared by " + other + " and " + fn + ": one role per function");
            }
            if (p.containsKey("Policies")) problems.add(fn + ": Policies on the function (SAM writes them into a role of its own making): put them in its role");
        });
        assertEquals(List.of(), problems);
        assertEquals(9, roleUsedBy.size(), "the nine functions each have one");
    }

    @Test
    void noRoleOrPolicyHasAWildcardOrAManagedPolicy() {
        List<String> problems = new ArrayList<>();
        ofType("AWS::IAM::Role").forEach((id, p) -> {
            if (p.containsKey("ManagedPolicyArns")) problems.add(id + ": managed policies " + p.get("ManagedPolicyArns"));
            if (p.containsKey("PermissionsBoundary")) problems.add(id + ": a permissions boundary this test cannot read");
            for (Object st : list(map(p.get("AssumeRolePolicyDocument")).get("Statement"))) {
                Map<String, Object> s = map(st);
                if (!"lambda.amazonaws.com".equals(map(s.get("Principal")).get("Service")) || !"sts:AssumeRole".equals(s.get("Action"))) {
                    problems.add(id + ": trusts more than Lambda: " + s);
                }
            }
            for (Object pol : list(p.get("Policies"))) statements(id, map(map(pol).get("PolicyDocument")), problems);
        });
        for (String type : List.of("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")) {
            ofType(type).forEach((id, p) -> statements(id, map(p.get("PolicyDocument")), problems));
        }
        assertEquals(List.of(), problems);
    }

    private static void statements(String id, Map<String, Object> document, List<String> problems) {
        for (Object st : list(document.get("Statement"))) {
            Map<String, Object> s = map(st);
            if (s.containsKey("NotAction") || s.containsKey("NotResource")) problems.add(id + ": NotAction/NotResource grants by exclusion: " + s);
            if (!"Allow".equals(s.get("Effect"))) problems.add(id + ": a statement that is not a plain Allow: " + s);
            for (String a : strings(s.get("Action"))) if (a.contains("*")) problems.add(id + ": wildcard action " + a);
            List<String> resourceText = strings(s.get("Resource"));
            if (resourceText.isEmpty()) problems.add(id + ": a statement without a resource: " + s);
            for (String r : resourceText) if (r.contains("*")) problems.add(id + ": wildcard resource " + r);
        }
    }

    /** Every string in a value, also inside !Sub and !Join: a "*" anywhere in a written ARN counts. */
    private static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        if (o instanceof String s) out.add(s);
        else if (o instanceof List<?> l) for (Object x : l) out.addAll(strings(x));
        else if (o instanceof Map<?, ?> m) for (Object x : m.values()) out.addAll(strings(x));
        return out;
    }

    /** The actions a role grants on one resource value (compared as read: {@code !GetAtt T.StreamArn} etc.). */
    private static Set<String> grantedOn(Map<String, Object> role, Object resource) {
        Set<String> out = new LinkedHashSet<>();
        for (Object pol : list(role.get("Policies"))) {
            for (Object st : list(map(map(pol).get("PolicyDocument")).get("Statement"))) {
                Map<String, Object> s = map(st);
                List<Object> resources = s.get("Resource") instanceof List<?> l ? new ArrayList<>(l) : List.of(s.get("Resource"));
                if (resources.contains(resource)) out.addAll(strings(s.get("Action")));
            }
        }
        return out;
    }

    @Test
    void eachRoleGrantsWhatLambdaDoesForItsFunctionStreamsDeadLettersAndItsOwnLogGroupOnly() {
        List<String> problems = new ArrayList<>();
        Map<String, Map<String, Object>> roles = ofType("AWS::IAM::Role");
        ofType("AWS::Serverless::Function").forEach((fn, p) -> {
            Map<String, Object> role = roles.get(getAtt(p.get("Role"), "Arn"));
            if (role == null) { problems.add(fn + ": no role"); return; }
            String logGroup = (String) map(map(p.get("LoggingConfig")).get("LogGroup")).get("Ref");
            if (logGroup == null) {
                problems.add(fn + ": no log group of its own (Lambda would create /aws/lambda/... needing logs:CreateLogGroup)");
            } else if (!grantedOn(role, Map.of("Fn::GetAtt", logGroup + ".Arn")).containsAll(LOG_WRITE)) {
                problems.add(fn + ": cannot write to its log group " + logGroup);
            }
            // logs actions name no other log group
            for (Object pol : list(role.get("Policies"))) {
                for (Object st : list(map(map(pol).get("PolicyDocument")).get("Statement"))) {
                    Map<String, Object> s = map(st);
                    boolean logs = strings(s.get("Action")).stream().anyMatch(a -> a.startsWith("logs:"));
                    if (logs && !Map.of("Fn::GetAtt", logGroup + ".Arn").equals(s.get("Resource"))) {
                        problems.add(fn + ": logs actions on something other than its own log group: " + s.get("Resource"));
                    }
                }
            }
            map(p.get("Events")).forEach((name, e) -> {
                Map<String, Object> ev = map(e);
                if (!"DynamoDB".equals(ev.get("Type"))) return;
                Map<String, Object> ep = map(ev.get("Properties"));
                if (!grantedOn(role, ep.get("Stream")).containsAll(STREAM_READ)) {
                    problems.add(fn + "." + name + ": the event source mapping cannot read its stream " + ep.get("Stream"));
                }
                Object dlq = map(map(ep.get("DestinationConfig")).get("OnFailure")).get("Destination");
                if (dlq != null && !grantedOn(role, dlq).contains("sqs:SendMessage")) {
                    problems.add(fn + "." + name + ": failed batches cannot be sent to " + dlq);
                }
            });
        });
        assertEquals(List.of(), problems);
    }
}
