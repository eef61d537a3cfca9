"""Conversation intelligence: debtor emotion, intent, cause, willingness and next script;
collector speech-compliance flags.  Pure logic (stdlib, numpy, scikit-learn); see
docs/conversation.md."""
