"""Curriculum retrieval: corpus loading, chunking, embedding, FAISS + BM25 shards, fusion."""
