"""Case notes: free text an agent leaves on a case; append-only history."""
