"""One chat turn for every surface: persist the question, route it, answer locally or
remotely (with failover and confidence escalation), meter, price and audit it. Receives what
it needs through ChatService's TurnParts; never imports app.services or a surface."""
