"""Use cases: each public function is one transaction and returns plain records."""
