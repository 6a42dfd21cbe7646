-- A CCB member can end an approved exception early. The request is then
-- expired, as any ended exception is, and this says who ended it, when and
-- why (JSON: by, at, reason); NULL for every other request.
ALTER TABLE exceptions ADD COLUMN revoked TEXT;
