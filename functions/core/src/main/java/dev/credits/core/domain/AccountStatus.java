package dev.credits.core.domain;

public enum AccountStatus { ACTIVE, CLOSED }
