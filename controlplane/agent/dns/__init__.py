"""The agent's DNS responder: `*.weave.local` from the control plane's records; others forwarded."""
