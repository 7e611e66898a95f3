# Folder conventions, so that adding a file or a folder needs no edit to a shared CMakeLists.

# A library made of every .cpp below `dir` (an INTERFACE target while it has none yet).
function(hft_glob_library name alias dir)
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  if(_srcs)
    add_library(${name} ${_srcs})
    set(_scope PUBLIC)
  else()
    add_library(${name} INTERFACE)
    set(_scope INTERFACE)
  endif()
  add_library(${alias} ALIAS ${name})
  target_link_libraries(${name} ${_scope} ${ARGN})
endfunction()

# add_subdirectory() for every direct subfolder of the current folder that has a CMakeLists.txt.
function(hft_add_subdirectories)
  file(GLOB _children LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT _children)
  foreach(_child ${_children})
    if(IS_DIRECTORY ${_child} AND EXISTS ${_child}/CMakeLists.txt)
      add_subdirectory(${_child})
    endif()
  endforeach()
endfunction()
