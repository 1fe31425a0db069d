# prebuild.cmake - run by CPack on the staged package before it is packed:
# Debian policy wants man pages compressed with gzip -9n (reproducible),
# the binary stripped of debugging symbols, and a changelog.
set(_root "${CPACK_TEMPORARY_DIRECTORY}")
file(GLOB _man "${_root}/usr/share/man/man*/*.[15]")
foreach(f ${_man})
  execute_process(COMMAND gzip -9nf "${f}" RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "gzip ${f} failed")
  endif()
endforeach()
execute_process(COMMAND strip --strip-unneeded --remove-section=.comment
                        --remove-section=.note "${_root}/usr/bin/greenlight"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "strip failed")
endif()
# the project's CHANGELOG.md, and a Debian changelog entry that points at it
set(_doc "${_root}/usr/share/doc/greenlight")
file(COPY "${CPACK_GREENLIGHT_SOURCE_DIR}/CHANGELOG.md" DESTINATION "${_doc}")
execute_process(COMMAND gzip -9nf "${_doc}/CHANGELOG.md")
string(TIMESTAMP _date "%a, %d %b %Y %H:%M:%S +0000" UTC)	# honours SOURCE_DATE_EPOCH
file(WRITE "${_doc}/changelog"
"greenlight (${CPACK_PACKAGE_VERSION}) unstable; urgency=medium

  * Built from the greenlight sources; what changed is in
    /usr/share/doc/greenlight/CHANGELOG.md.gz.

 -- ${CPACK_PACKAGE_CONTACT}  ${_date}
")
execute_process(COMMAND gzip -9nf "${_doc}/changelog")
