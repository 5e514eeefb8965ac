"""Clinical knowledge as code over data: the measurement catalog, reference ranges, scores, display units."""
