package dev.credits.local;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A contract test: it drives the whole stack (HTTP runner, handlers, DynamoDB and its streams, SNS/SQS, stripe-mock)
 * through {@link TestStack}, so it runs twice in {@code mvn verify}: on the local emulators (surefire's default
 * execution) and on LocalStack (execution {@code localstack}, which selects this tag). Where that run finds no Docker
 * engine, the class is reported as skipped, not failed.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("contract")
@ExtendWith(StackBackend.DockerCondition.class)
@interface ContractTest {}
