//! A streamed `GenerateContentResponse` read in one borrowing pass ([`Reader`]), into the same
//! [`GenerateResponse`] the lenient serde reading builds; a response of any other shape is left to serde
//! ([`Unusual`]).

use super::{Candidate, CandidateContent, GenerateResponse, Part, UsageMetadata};
use crate::wire::json_borrow::{seen, Fast, Reader, Unusual};
use crate::wire::lenient::EnumValue;

/// The response, or [`Unusual`] when serde must read it.
pub(super) fn response(data: &[u8]) -> Fast<GenerateResponse<'_>> {
    Reader::document(data, |r| {
        let mut out = GenerateResponse::default();
        let mut mask = 0;
        let read = r.object(|r, key| match key {
            b"candidates" => {
                seen(&mut mask, 1)?;
                let mut candidates = Vec::new();
                if r.array(|r| {
                    let mut c = Candidate::default();
                    if candidate(r, &mut c)? {
                        candidates.push(c);
                    }
                    Ok(())
                })? {
                    out.candidates = Some(candidates);
                }
                Ok(())
            }
            b"usageMetadata" => {
                seen(&mut mask, 2)?;
                out.usage_metadata = usage(r)?;
                Ok(())
            }
            b"modelVersion" => {
                seen(&mut mask, 4)?;
                out.model_version = r.text()?;
                Ok(())
            }
            b"responseId" => {
                seen(&mut mask, 8)?;
                out.response_id = r.text()?;
                Ok(())
            }
            // Errors are rare: serde reads them.
            b"error" => {
                seen(&mut mask, 16)?;
                if r.null()? {
                    Ok(())
                } else {
                    Err(Unusual)
                }
            }
            _ => r.skip(),
        })?;
        // A bare `null` is no response (serde's struct reading fails on it).
        if read {
            Ok(out)
        } else {
            Err(Unusual)
        }
    })
}

fn candidate<'a>(r: &mut Reader<'a>, c: &mut Candidate<'a>) -> Fast<bool> {
    let mut mask = 0;
    r.object(|r, key| match key {
        b"content" => {
            seen(&mut mask, 1)?;
            let mut content = CandidateContent::default();
            let mut inner = 0;
            if r.object(|r, key| match key {
                b"parts" => {
                    seen(&mut inner, 1)?;
                    let mut parts = Vec::new();
                    if r.array(|r| {
                        let mut p = Part::default();
                        if part(r, &mut p)? {
                            parts.push(p);
                        }
                        Ok(())
                    })? {
                        content.parts = Some(parts);
                    }
                    Ok(())
                }
                _ => r.skip(),
            })? {
                c.content = Some(content);
            }
            Ok(())
        }
        b"finishReason" => {
            seen(&mut mask, 2)?;
            // A number is looked up by serde's reading.
            c.finish_reason = r.text()?.map(EnumValue::Name);
            Ok(())
        }
        b"index" => {
            seen(&mut mask, 4)?;
            c.index = r.count()?.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
            Ok(())
        }
        _ => r.skip(),
    })
}

fn part<'a>(r: &mut Reader<'a>, p: &mut Part<'a>) -> Fast<bool> {
    let mut mask = 0;
    r.object(|r, key| match key {
        b"text" => {
            seen(&mut mask, 1)?;
            p.text = r.text()?;
            Ok(())
        }
        b"thought" => {
            seen(&mut mask, 2)?;
            p.thought = r.flag()?;
            Ok(())
        }
        // A function call is kept as a JSON value: serde builds it.
        b"functionCall" => {
            seen(&mut mask, 4)?;
            if r.null()? {
                Ok(())
            } else {
                Err(Unusual)
            }
        }
        _ => r.skip(),
    })
}

fn usage(r: &mut Reader<'_>) -> Fast<Option<UsageMetadata>> {
    let mut u = UsageMetadata::default();
    let mut mask = 0;
    let read = r.object(|r, key| {
        let (bit, slot) = match key {
            b"promptTokenCount" => (1, &mut u.prompt_token_count),
            b"candidatesTokenCount" => (2, &mut u.candidates_token_count),
            b"thoughtsTokenCount" => (4, &mut u.thoughts_token_count),
            b"cachedContentTokenCount" => (8, &mut u.cached_content_token_count),
            b"toolUsePromptTokenCount" => (16, &mut u.tool_use_prompt_token_count),
            b"totalTokenCount" => (32, &mut u.total_token_count),
            _ => return r.skip(),
        };
        seen(&mut mask, bit)?;
        *slot = r.count()?;
        Ok(())
    })?;
    Ok(read.then_some(u))
}
