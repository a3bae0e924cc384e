-- Each answer's grounding verdict (supported, repaired, unsupported; NULL when not checked):
-- how often the model said what its sources do not, per model version.
ALTER TABLE request_log ADD COLUMN grounding TEXT;
